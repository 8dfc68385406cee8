//! The command line of the example servers that serve `wss://` too.
#![allow(dead_code)] // each example uses a part

/// What the command line said.
pub struct ServerArgs {
    /// The address to listen on.
    pub addr: String,
    /// The certificate chain and key files, if both were given.
    pub tls: Option<(String, String)>,
    /// The switches given, of those allowed.
    pub switches: Vec<String>,
}

/// `[--tls-cert FILE --tls-key FILE] [ADDR]`: the address (or `default`),
/// and the certificate and key files if both are given.
pub fn args(default: &str) -> Result<(String, Option<(String, String)>), String> {
    let ServerArgs { addr, tls, .. } = args_with_switches(default, &[])?;
    Ok((addr, tls))
}

/// As [`args`], also taking the switches named in `allowed` (`--quiet`).
pub fn args_with_switches(default: &str, allowed: &[&str]) -> Result<ServerArgs, String> {
    let (mut addr, mut cert, mut key) = (None, None, None);
    let mut switches = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tls-cert" => cert = Some(args.next().ok_or("--tls-cert needs a file")?),
            "--tls-key" => key = Some(args.next().ok_or("--tls-key needs a file")?),
            _ if allowed.contains(&arg.as_str()) => switches.push(arg),
            _ if addr.is_none() && !arg.starts_with("--") => addr = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    Ok(ServerArgs {
        addr: addr.unwrap_or_else(|| default.into()),
        tls,
        switches,
    })
}
