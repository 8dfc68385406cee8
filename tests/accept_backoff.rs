//! `ServerBuilder::serve` out of file descriptors: the accept loop backs
//! off instead of spinning, and serves the waiting clients once
//! descriptors are free again.
//!
//! One test in its own binary: it lowers this process's descriptor limit
//! and uses up the rest, which any test beside it would feel.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::ServerBuilder;

/// User plus system CPU time of this process.
fn cpu_time() -> Duration {
    // SAFETY: rusage holds only integers, for which all zeroes is a value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn out_of_descriptors_the_accept_loop_backs_off_and_recovers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Clients in another process, started before the descriptors run out:
    // three connections that wait in the listen queue.
    let mut clients = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "sleep 0.3; exec 3<>/dev/tcp/127.0.0.1/{port} 4<>/dev/tcp/127.0.0.1/{port} \
             5<>/dev/tcp/127.0.0.1/{port}; sleep 4"
        ))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();

    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    // Use up every descriptor the process may open, under a limit low
    // enough to reach quickly.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_cur.min(1024);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    let mut hoard = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        hoard.push(file);
        assert!(hoard.len() < 1 << 20, "no descriptor limit to reach");
    }
    thread::spawn(move || {
        ServerBuilder::new().serve(&listener, move |_stream| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
    });

    // While accept fails with EMFILE, the loop sleeps between tries.
    thread::sleep(Duration::from_millis(500));
    let cpu_before = cpu_time();
    let wall = Instant::now();
    thread::sleep(Duration::from_millis(1500));
    let cpu = cpu_time() - cpu_before;
    let share = cpu.as_secs_f64() / wall.elapsed().as_secs_f64();
    assert!(
        share < 0.2,
        "the accept loop used {cpu:?} of CPU in {:?}",
        wall.elapsed()
    );
    assert_eq!(served.load(Ordering::SeqCst), 0);

    // Descriptors free again: the waiting clients are served.
    drop(hoard);
    let deadline = Instant::now() + Duration::from_secs(5);
    while served.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(served.load(Ordering::SeqCst), 3);
    let _ = clients.kill();
    let _ = clients.wait();
}
