// One WebSocket to the server, speaking ActorChat's JSON protocol: a request with an id comes back
// as a promise of its direct reply; every other event goes to onEvent.
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
        if (this.socket === socket) this.socket = null;
        for (const { fail } of this.pending.values()) fail({ code: "disconnected", message: "the connection closed" });
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
      if (frame.event === "error") waiter.fail(frame.params); else waiter.done(frame);
      return;
    }
    this.handlers.onEvent(frame);
  }

  /// Sends a request and resolves with its direct reply, or rejects with the error's params.
  request(event, params = {}) {
    if (!this.isOpen) return Promise.reject({ code: "disconnected", message: "not connected" });
    const id = this.nextId++;
    return new Promise((done, fail) => {
      this.pending.set(id, { done, fail });
      this.socket.send(JSON.stringify({ event, params, id }));
    });
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000);
  }
}
