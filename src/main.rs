//! The `doorbraak` binary. Everything lives in `doorbraak-server`.

/// mimalloc instead of the system's allocator: a server that answers
/// thousands of small requests a second spends about a tenth of its time
/// in malloc and free (ARCHITECTURE.md, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    doorbraak_server::cli::main()
}
