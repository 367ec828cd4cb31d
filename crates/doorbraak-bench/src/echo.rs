//! The loopback round trip: the lowest latency any server in another
//! process can answer with on this machine.
//!
//! `doorbraak-bench echo-server` (this binary, started again as a child)
//! listens on a free loopback port, prints it and sends back whatever
//! each connection sends, on a blocking thread per connection: no
//! runtime, no parsing, no allocation per message. One client in the
//! benchmark's process sends a request of a transition's size and waits
//! for it to come back, in a closed loop. Its p50 is the floor under P2's
//! single-client latency: a server that does nothing at all cannot answer
//! faster than this.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::load::Run;

/// The child's side: echo until the parent goes away.
pub fn serve() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    for stream in listener.incoming() {
        let mut s = stream?;
        s.set_nodelay(true)?;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

/// One client's closed loop against the echo child for `warm` (not
/// recorded) and then `secs`; `size` bytes a round trip.
pub async fn measure(size: usize, warm: Duration, secs: Duration) -> Result<Run> {
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .arg("echo-server")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the echo server")?;
    let out = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut line = String::new();
    tokio::io::BufReader::new(out).read_line(&mut line).await?;
    let port: u16 = line.trim().parse().context("the echo server's port")?;
    let std_stream = TcpStream::connect(("127.0.0.1", port))?;
    std_stream.set_nodelay(true)?;
    std_stream.set_nonblocking(true)?;
    let mut stream = tokio::net::TcpStream::from_std(std_stream)?;
    let message = vec![b'x'; size];
    let mut back = vec![0u8; size];
    let mut run = Run::new("echo", 1)?;
    let start = Instant::now() + warm;
    let end = start + secs;
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        stream.write_all(&message).await?;
        let mut got = 0;
        while got < size {
            let n = stream.read(&mut back[got..]).await?;
            if n == 0 {
                bail!("the echo server closed the connection");
            }
            got += n;
        }
        if t >= start {
            run.record(t.elapsed());
            run.count += 1;
        }
    }
    run.elapsed = secs;
    child.kill().await.ok();
    Ok(run)
}
