// One WebSocket to the server, speaking ActorChat's JSON protocol: a request with an id comes back
// as a promise of its direct reply; every other event goes to onEvent, and so do the replies that
// are also the requester's copy of an event (a direct message, a closed room, a kick, a role).
const repliesThatAreEvents = new Set(["dm", "room_closed", "room_created", "room_updated", "user_left", "role_changed"]);

export class ChatConnection {
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.socket = null;
    this.nextId = 1;
    this.pending = new Map();
  }

  open() {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.socket = socket;
      let opened = false;
      socket.onopen = () => { opened = true; resolve(); };
      socket.onmessage = (message) => this.receive(message.data);
      socket.onclose = (close) => {
        // A socket this side closed or replaced says nothing more: only the current one's end counts.
        if (this.socket !== socket) return;
        this.socket = null;
        // These requests may or may not have reached the server.
        for (const { fail } of this.pending.values()) fail({ code: "disconnected", message: "the connection closed before the answer came" });
        this.pending.clear();
        if (opened) this.handlers.onClose(close); else reject(new Error("cannot reach the server"));
      };
    });
  }

  get isOpen() { return this.socket !== null && this.socket.readyState === WebSocket.OPEN; }

  receive(data) {
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    const waiter = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (waiter) {
      this.pending.delete(frame.id);
      if (frame.event === "error") { waiter.fail(frame.params); return; }
      waiter.done(frame);
      if (repliesThatAreEvents.has(frame.event)) this.handlers.onEvent(frame);
      return;
    }
    this.handlers.onEvent(frame);
  }

  /// Sends a request and resolves with its direct reply, or rejects with the error's params.
  request(event, params = {}) {
    if (!this.isOpen) return Promise.reject({ code: "not_connected", message: "not connected: it was not sent" });
    const id = this.nextId++;
    return new Promise((done, fail) => {
      this.pending.set(id, { done, fail });
      this.socket.send(JSON.stringify({ event, params, id }));
    });
  }

  /// Closes on purpose: no onClose follows, and requests still waiting fail.
  close() {
    const socket = this.socket;
    this.socket = null;
    for (const { fail } of this.pending.values()) fail({ code: "disconnected", message: "the connection was closed" });
    this.pending.clear();
    if (socket) socket.close(1000);
  }
}
