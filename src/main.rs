//! The `bandwise` binary: the command line over the library with the built-in optimizers.

fn main() -> std::process::ExitCode {
    bandwise::cli::main_with(bandwise::optim::Registry::builtin())
}
