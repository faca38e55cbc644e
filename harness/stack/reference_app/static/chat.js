// Session chat over a WebSocket. Every text goes into the page with
// textContent, never as HTML. data-ready="true" on the root once the server
// has subscribed this socket and sent the history.
(function () {
  const MAX_CHARS = 2000;
  const root = document.getElementById('chat');
  const list = document.getElementById('chat-messages');
  const input = document.getElementById('chat-input');
  const errorBox = document.getElementById('chat-error');
  const chatForm = document.getElementById('chat-form');
  const fileForm = document.getElementById('file-form');
  const fileInput = document.getElementById('file-input');
  const endButton = document.getElementById('end-session');
  const endedBox = document.getElementById('session-ended');
  const sessionId = root.dataset.sessionId;
  const userId = root.dataset.userId;
  let socket = null;
  let retry = 0;

  const ended = () => ['completed', 'cancelled'].includes(root.dataset.status);

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function shortTime(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
  }

  function append(item) {
    const isFile = item.kind === 'file' || item.file_name !== undefined;
    const selector = isFile ? `[data-file-id="${item.id}"]` : `[data-message-id="${item.id}"]`;
    if (list.querySelector(selector)) return;  // already shown (page render or history)
    const li = fromTemplate(isFile ? 'tpl-file' : 'tpl-message', {...item, time: shortTime(item.created_at)});
    if (item.sender_id === userId) li.classList.add('mine');
    list.append(li);
    li.scrollIntoView({block: 'end'});
  }

  function markEnded(status) {
    root.dataset.status = status || 'completed';
    document.getElementById('chat-status').textContent = root.dataset.status;
    endedBox.hidden = false;
    chatForm.hidden = true;
    fileForm.hidden = true;
    if (endButton) endButton.hidden = true;
  }

  function connect() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${proto}://${location.host}/session/${sessionId}/ws`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === 'history') data.items.forEach(append);
      else if (data.type === 'ready') {
        retry = 0;
        if (['completed', 'cancelled'].includes(data.status)) markEnded(data.status);
        root.dataset.ready = 'true';
      } else if (data.type === 'message') append({kind: 'message', ...data.message});
      else if (data.type === 'file') append({kind: 'file', ...data.file});
      else if (data.type === 'session_ended') markEnded('completed');
      else if (data.type === 'error') showError(data.message);
      else if (data.type === 'sent') { input.value = ''; showError(''); }
    };
    socket.onclose = (event) => {
      root.dataset.ready = 'false';
      if (event.code >= 4000) {
        showError(event.reason || 'You cannot join this chat.');
        return;
      }
      if (!ended() && retry < 10) setTimeout(connect, Math.min(250 * 2 ** retry++, 5000));
    };
  }

  chatForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = input.value;
    if (!body.trim()) return showError('Message cannot be empty');
    if (body.length > MAX_CHARS) return showError(`Message is too long (${body.length} characters; the limit is ${MAX_CHARS})`);
    if (!socket || socket.readyState !== WebSocket.OPEN) return showError('Not connected yet; try again in a moment');
    socket.send(JSON.stringify({type: 'message', body}));
  });

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      chatForm.requestSubmit();
    }
  });

  fileForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!fileInput.files.length) return showError('Choose a photo first');
    const form = new FormData();
    form.append('file', fileInput.files[0]);
    const res = await fetch(`/session/${sessionId}/files`, {method: 'POST', body: form});
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return showError(body.error || 'The photo could not be attached');
    showError('');
    fileInput.value = '';
    append({kind: 'file', ...body});
  });

  if (endButton) {
    endButton.addEventListener('click', async () => {
      endButton.disabled = true;
      const res = await fetch(`/session/${sessionId}/end`, {method: 'POST'});
      const body = await res.json().catch(() => ({}));
      if (res.ok) markEnded('completed');
      else { showError(body.error || 'The session could not be ended'); endButton.disabled = false; }
    });
  }

  connect();
})();
