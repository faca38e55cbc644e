// followUpdates(refresh): call refresh() (async; it fetches what the page shows) once the
// server has subscribed this page to its user's changes, and again after each change, over
// the WebSocket /api/updates; reconnect when it drops. Nothing runs while nothing changes.
// <html data-updates> is "live" while subscribed. Returns {stop()}.
function followUpdates(refresh) {
  let socket = null;
  let retry = 0;
  let stopped = false;
  let running = false;
  let again = false;

  async function run() {
    if (running) { again = true; return; }  // one fetch at a time; a change meanwhile: one more
    running = true;
    try {
      do {
        again = false;
        try { await refresh(); } catch (err) { /* the next change or reconnect fetches again */ }
      } while (again && !stopped);
    } finally {
      running = false;
    }
  }

  function connect() {
    if (stopped) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${proto}://${location.host}/api/updates`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === 'ready') {
        retry = 0;
        document.documentElement.dataset.updates = 'live';
      }
      if (data.type === 'ready' || data.type === 'changed') run();
    };
    socket.onclose = (event) => {
      socket = null;
      document.documentElement.dataset.updates = stopped ? 'stopped' : 'down';
      if (stopped || event.code === 4401) return;  // signed out: a reload goes to the login page
      retry += 1;
      setTimeout(connect, Math.min(200 * 2 ** retry, 5000));
    };
  }

  connect();
  return {
    stop() {
      stopped = true;
      if (socket) socket.close();
    },
  };
}
