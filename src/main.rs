//! The `doorbraak` binary. Everything lives in `doorbraak-server`.

fn main() -> std::process::ExitCode {
    doorbraak_server::cli::main()
}
