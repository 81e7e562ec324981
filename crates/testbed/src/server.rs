//! Start-up and shut-down: binds the listeners, runs them on a private tokio runtime in its own
//! thread, and stops that runtime on request. Also the panic catcher every task runs under.

use std::any::Any;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::Notify;

use crate::routes::RouteState;
use crate::stats::Stats;

/// State shared by every task of one server.
pub(crate) struct Shared {
    pub(crate) stats: Arc<Stats>,
    pub(crate) routes: RouteState,
}

impl Shared {
    /// Wraps `fut` so a panic inside it is recorded instead of lost; yields `None` after a panic.
    pub(crate) fn catch<F: Future>(&self, fut: F) -> CatchPanic<F> {
        CatchPanic {
            inner: Box::pin(fut),
            stats: Arc::clone(&self.stats),
        }
    }
}

/// A future that records its inner future's panic in [`Stats`].
pub(crate) struct CatchPanic<F> {
    inner: Pin<Box<F>>,
    stats: Arc<Stats>,
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                this.stats.record_panic(panic_message(payload.as_ref()));
                Poll::Ready(None)
            }
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Binds a listening socket (address reuse, backlog 1024, non-blocking).
pub(crate) fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// A running runtime thread; [`Running::stop`] ends it.
pub(crate) struct Running {
    stop: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
}

/// The listeners to serve: plain ones in slot order, then the optional TLS one.
pub(crate) struct Listeners {
    pub(crate) plain: Vec<std::net::TcpListener>,
    pub(crate) tls: Option<(std::net::TcpListener, tokio_rustls::TlsAcceptor)>,
}

/// Serves `listeners` on a new thread with its own two-worker tokio runtime.
pub(crate) fn run(listeners: Listeners, shared: Arc<Shared>) -> io::Result<Running> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("testbed")
        .enable_all()
        .build()?;
    let stop = Arc::new(Notify::new());
    let stopped = Arc::clone(&stop);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
    let thread = std::thread::Builder::new()
        .name("testbed-main".into())
        .spawn(move || {
            rt.block_on(async move {
                let started = (|| {
                    let plain_slots = listeners.plain.len();
                    for (slot, l) in listeners.plain.into_iter().enumerate() {
                        let l = tokio::net::TcpListener::from_std(l)?;
                        tokio::spawn(crate::http1::serve(l, slot, Arc::clone(&shared)));
                    }
                    if let Some((l, acceptor)) = listeners.tls {
                        let l = tokio::net::TcpListener::from_std(l)?;
                        let sh = Arc::clone(&shared);
                        tokio::spawn(crate::tls::serve(l, plain_slots, acceptor, sh));
                    }
                    Ok(())
                })();
                let ok = started.is_ok();
                let _ = ready_tx.send(started);
                if ok {
                    stopped.notified().await;
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        })?;
    let running = Running {
        stop,
        thread: Some(thread),
    };
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(running),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::other("testbed runtime thread died")),
    }
}

impl Running {
    /// Stops the runtime (aborting every task) and waits for its thread.
    pub(crate) fn stop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
