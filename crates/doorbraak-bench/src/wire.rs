//! A minimal HTTP/1.1 client for the load loops: one keep-alive connection
//! per client, a request written in one piece, the answer read by its
//! `Content-Length`. It costs the load tool as little CPU as possible, so
//! that on a 2-core machine the server gets the cores, and the same client
//! measures the bare-request floor and the transitions alike.

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: &str) -> Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            host: addr.to_owned(),
            buf: Vec::with_capacity(4096),
        })
    }

    /// POSTs a GraphQL body to `/graphql` and returns the answer's body;
    /// an HTTP status other than 200 or a GraphQL error is an error.
    pub async fn graphql(&mut self, token: &str, body: &str) -> Result<&[u8]> {
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await?;
        self.buf.clear();
        let (head_end, length) = loop {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                if !head.starts_with("HTTP/1.1 200") {
                    bail!(
                        "HTTP {}",
                        head.lines().next().unwrap_or_default().to_owned()
                    );
                }
                let length = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.trim().parse::<usize>())
                    .transpose()?
                    .ok_or_else(|| anyhow!("an answer without Content-Length"))?;
                break (end + 4, length);
            }
        };
        while self.buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("the server closed the connection mid-answer");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let body = &self.buf[head_end..head_end + length];
        if find(body, b"\"errors\"").is_some() {
            bail!("GraphQL error: {}", String::from_utf8_lossy(body));
        }
        Ok(body)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
