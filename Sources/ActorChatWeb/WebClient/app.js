import { ChatConnection } from "./connection.js";
import { runCommand } from "./commands.js";

// The page's whole state; the server is the record, this is what has been heard of it.
const state = {
  me: null,
  login: null,           // how to log in again after a reconnect
  session: null,          // the account's session token, when there is one
  rooms: new Map(),       // name -> { info, joined, members, roles, lines, lastSeq, oldestSeq, more, unread }
  directs: new Map(),     // peer -> { lines, unread }
  view: null,             // { kind: "room" | "dm", name }
  sentLines: [],
  loggingOut: false,
};
const maxLines = 1000;
const $ = (id) => document.getElementById(id);
const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const connection = new ChatConnection(url, { onEvent: handleEvent, onClose: handleClose });
let reconnectDelay = 500;
let reconnectTimer = null;
let roomPoll = null;

// ---- Login ----------------------------------------------------------------------------------

$("login").addEventListener("submit", (event) => { event.preventDefault(); logIn(false); });
$("login-register").addEventListener("click", () => logIn(true));

async function logIn(register) {
  const name = $("login-name").value.trim();
  const password = $("login-password").value;
  $("login-error").textContent = "";
  if (register && password.length < 8) { $("login-error").textContent = "Choose a password of at least 8 characters to register."; return; }
  const login = password ? { name, password } : { name };
  try {
    if (!connection.isOpen) await connection.open();
    if (register) await connection.request("register", { name, password });
    await start(login);
    $("login-password").value = "";
  } catch (error) {
    $("login-error").textContent = describe(error);
  }
}

async function start(login) {
  const welcome = await connection.request("login", login);
  const user = welcome.params.user;
  state.me = user.name;
  state.session = welcome.params.session ?? null;
  state.login = state.session ? { name: user.name, session: state.session } : { name: user.name };
  if (state.session && $("login-remember").checked) localStorage.setItem("actorchat.session", JSON.stringify(state.login));
  $("me").textContent = user.name + (user.admin ? " (admin)" : "") + (state.session ? "" : " · guest");
  $("login").hidden = true;
  $("app").hidden = false;
  setRooms(welcome.params.rooms);
  clearInterval(roomPoll);
  roomPoll = setInterval(refreshRooms, 5000);
  $("input").focus();
}

async function resumeSaved() {
  const saved = localStorage.getItem("actorchat.session");
  if (!saved) return;
  try {
    await connection.open();
    await start(JSON.parse(saved));
  } catch (error) {
    connection.close();
    if (error.code === "auth_failed") {
      localStorage.removeItem("actorchat.session");
      $("login-error").textContent = "Your saved login has expired: log in again.";
    } else {
      $("login-error").textContent = `Could not log you back in (${describe(error)}): reload to try again.`;
    }
  }
}

$("logout").addEventListener("click", () => logOut());

export async function logOut() {
  state.loggingOut = true;
  localStorage.removeItem("actorchat.session");
  try { await connection.request("logout"); } catch { /* the connection closes either way */ }
  location.reload();
}

// ---- Reconnect and resume ---------------------------------------------------------------------

function handleClose(close) {
  clearInterval(roomPoll);
  if (state.loggingOut || !state.login) return;
  if (close.reason === "session_replaced") {
    // Another tab or device took this account over: taking it back would only start a tug of war.
    showBanner("You logged in somewhere else, so this page was logged out. Reload to use it here.");
    return;
  }
  const reason = close.reason ? ` (${close.reason})` : "";
  scheduleReconnect(`Offline${reason}.`);
}

function scheduleReconnect(prefix) {
  if (reconnectTimer !== null) return;
  const delay = reconnectDelay * (0.75 + Math.random() / 2);
  reconnectDelay = Math.min(reconnectDelay * 2, 15000);
  showBanner(`${prefix} Reconnecting in ${Math.ceil(delay / 1000)} s…`);
  reconnectTimer = setTimeout(reconnect, delay);
}

async function reconnect() {
  reconnectTimer = null;
  try {
    await connection.open();
    await start(state.login);
  } catch (error) {
    connection.close();
    if (error.code === "auth_failed" && state.session) {
      showBanner("Your session has ended: log in again.");
      state.login = null;
      return;
    }
    scheduleReconnect(`Still offline: ${describe(error)}.`);
    return;
  }
  reconnectDelay = 500;
  showBanner(null);
  // Each room resumes from the last message seen; one that cannot be rejoined says why, there.
  for (const [name, room] of state.rooms) {
    if (!room.joined) continue;
    room.joined = false;
    try {
      await joinRoom(name, { since: room.lastSeq });
    } catch (error) {
      if (error.code === "disconnected" || error.code === "not_connected") return;
      addLine("room", name, { kind: "error", text: `Could not rejoin ${name}: ${describe(error, name)}` });
    }
  }
  render();
}

function showBanner(text) {
  $("banner").hidden = text === null;
  $("banner").textContent = text ?? "";
}

// ---- Rooms ------------------------------------------------------------------------------------

function room(name) {
  let entry = state.rooms.get(name);
  if (!entry) {
    entry = { info: { name, count: 0, limit: 0 }, joined: false, members: [], roles: {}, lines: [], lastSeq: 0, oldestSeq: null, more: false, unread: 0 };
    state.rooms.set(name, entry);
  }
  return entry;
}

function setRooms(list) {
  const seen = new Set();
  for (const info of list) { room(info.name).info = info; seen.add(info.name); }
  for (const [name, entry] of state.rooms) if (!seen.has(name) && !entry.joined && name !== "") state.rooms.delete(name);
  renderRooms();
}

async function refreshRooms() {
  if (document.hidden || !connection.isOpen) return;
  try { setRooms((await connection.request("rooms")).params.rooms); } catch { /* shown when it matters */ }
}

export async function joinRoom(name, options = { history: 50 }) {
  const reply = await connection.request("join", { room: name, ...options });
  const { room: info, members, roles, seq } = reply.params;
  const entry = room(info.name);
  entry.info = info;
  entry.joined = true;
  entry.members = members;
  entry.roles = roles ?? {};
  if (options.history !== undefined) { entry.lines = []; entry.oldestSeq = null; entry.more = seq > options.history; }
  if (entry.lastSeq === 0) entry.lastSeq = seq > (options.history ?? 0) ? seq - (options.history ?? 0) : 0;
  return info.name;
}

export async function leaveRoom(name) {
  await connection.request("leave", { room: name });
  const entry = room(name);
  entry.joined = false;
  entry.members = [];
  if (state.view?.name === name) state.view = null;
  render();
}

export function show(kind, name) {
  state.view = { kind, name };
  const entry = kind === "room" ? room(name) : direct(name);
  entry.unread = 0;
  render();
  $("input").focus();
}

async function openRoom(name) {
  try {
    if (!room(name).joined) name = await joinRoom(name);
    show("room", name);
  } catch (error) {
    flash(describe(error, name));
  }
}

function direct(peer) {
  let entry = state.directs.get(peer);
  if (!entry) { entry = { lines: [], unread: 0 }; state.directs.set(peer, entry); }
  return entry;
}

$("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("create-name").value.trim();
  try {
    await connection.request("create_room", { room: name, limit: Number($("create-limit").value), private: $("create-private").checked });
    $("create-name").value = "";
    await openRoom(name);
  } catch (error) {
    flash(describe(error, name));
  }
});

$("leave").addEventListener("click", () => {
  if (state.view?.kind === "room") leaveRoom(state.view.name).catch((error) => flash(describe(error)));
});

// ---- Events from the server --------------------------------------------------------------------

function handleEvent(frame) {
  const p = frame.params ?? {};
  switch (frame.event) {
    case "message": {
      const entry = room(p.room);
      if (p.seq <= entry.lastSeq && !p.replay) break;
      const fresh = p.seq > entry.lastSeq;
      entry.lastSeq = Math.max(entry.lastSeq, p.seq);
      if (entry.oldestSeq === null || p.seq < entry.oldestSeq) entry.oldestSeq = p.seq;
      addLine("room", p.room, { kind: "message", from: p.from, text: p.text, ts: p.ts, replay: p.replay === true, fresh });
      break;
    }
    case "history_gap": {
      // The lines held end before the gap: start again from the replay, and page back into the gap.
      const entry = room(p.room);
      entry.lines = [];
      entry.oldestSeq = null;
      entry.more = true;
      addLine("room", p.room, { kind: "notice", text: `Messages ${p.from}–${p.to} were said while you were away: scroll up to read them.` });
      if (state.view?.kind === "room" && state.view.name === p.room) render();
      break;
    }
    case "dm": {
      const peer = p.from === state.me ? p.to : p.from;
      addLine("dm", peer, { kind: "message", from: p.from, text: p.text, ts: p.ts, fresh: true });
      break;
    }
    case "user_joined": memberChange(p.room, p.user, true, "joined"); break;
    case "user_left": memberChange(p.room, p.user, false, p.reason && p.reason !== "disconnected" ? `left (${p.reason})` : "left"); break;
    case "kicked": {
      const entry = room(p.room);
      entry.joined = false;
      entry.members = [];
      addLine("room", p.room, { kind: "error", text: `You were removed from ${p.room} by ${p.by}${p.reason ? ` (${p.reason})` : ""}.` });
      break;
    }
    case "role_changed": {
      const entry = room(p.room);
      if (p.role) entry.roles[p.user] = p.role; else delete entry.roles[p.user];
      addLine("room", p.room, { kind: "notice", text: p.role ? `${p.user} is now ${p.role}` : `${p.user} is no longer an op` });
      renderMembers();
      break;
    }
    case "room_created":
    case "room_updated":
      room(p.room.name).info = p.room;
      renderRooms();
      break;
    case "room_closed": {
      const entry = state.rooms.get(p.room);
      if (entry?.joined) addLine("room", p.room, { kind: "error", text: `${p.room} was closed by ${p.by}.` });
      state.rooms.delete(p.room);
      if (state.view?.name === p.room && state.view.kind === "room") state.view = null;
      render();
      break;
    }
    case "invited": flash(`${p.by} invited you to ${p.room}.`, "notice"); break;
    case "ping": connection.request("ping").catch(() => {}); break;
    case "server_shutdown": showBanner("The server is restarting…"); break;
    case "error": flash(describe(p)); break;
  }
}

function memberChange(name, user, joined, verb) {
  const entry = room(name);
  entry.members = entry.members.filter((member) => member !== user);
  if (joined) entry.members.push(user);
  entry.info.count = entry.members.length;
  addLine("room", name, { kind: "notice", text: `${user} ${verb}` });
  if (state.view?.kind === "room" && state.view.name === name) renderMembers();
}

// ---- Lines ------------------------------------------------------------------------------------

function addLine(kind, name, line) {
  const entry = kind === "room" ? room(name) : direct(name);
  entry.lines.push(line);
  if (entry.lines.length > maxLines) entry.lines.splice(0, entry.lines.length - maxLines);
  const visible = state.view?.kind === kind && state.view.name === name;
  if (visible) {
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(lineElement(line));
    if (atBottom || line.from === state.me) list.scrollTop = list.scrollHeight;
    if (entry.more) scheduleFill();
  } else if (line.kind === "message" && line.fresh && line.from !== state.me) {
    entry.unread += 1;
  }
  renderRooms();
}

/// Every piece of user text goes in through textContent: never parsed as markup.
function lineElement(line) {
  const item = document.createElement("li");
  item.classList.add(line.kind);
  if (line.replay) item.classList.add("replay");
  if (line.kind === "message") {
    if (line.from === state.me) item.classList.add("mine");
    const time = document.createElement("time");
    const date = new Date(line.ts);
    time.dateTime = date.toISOString();
    time.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const from = document.createElement("span");
    from.className = "from";
    from.textContent = line.from;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = line.text;
    item.append(time, from, text);
  } else {
    item.textContent = line.text;
  }
  return item;
}

/// Shows an error (or notice) where the user is looking: the open room, else under the login.
export function flash(text, kind = "error") {
  if (state.view) addLine(state.view.kind, state.view.name, { kind, text });
  else if (state.me) { addLine("room", "", { kind, text }); state.view = { kind: "room", name: "" }; render(); }
  else $("login-error").textContent = text;
}

/// A server error as a person would say it.
export function describe(error, roomName) {
  if (!error) return "something went wrong";
  if (error instanceof Error) return error.message;
  if (error.code === "room_full") {
    const name = error.room ?? roomName;
    const info = state.rooms.get(name)?.info;
    return `${name} is full (${Math.max(info?.count ?? error.limit, error.limit)}/${error.limit})`;
  }
  return error.message ?? error.code ?? String(error);
}

// ---- History paging -------------------------------------------------------------------------

$("messages").addEventListener("scroll", () => {
  if ($("messages").scrollTop <= 20) loadOlder();
});

/// Pages back one screenful of the open room's history, when there is more.
async function loadOlder() {
  const list = $("messages");
  const view = state.view;
  if (view?.kind !== "room") return;
  const entry = room(view.name);
  if (!entry.joined || !entry.more || entry.loading || entry.oldestSeq === null) return;
  entry.loading = true;
  try {
    const reply = await connection.request("history", { room: view.name, before: entry.oldestSeq, limit: 50 });
    const older = reply.params.messages.map((m) => ({ kind: "message", from: m.from, text: m.text, ts: m.ts, replay: true }));
    entry.more = reply.params.more;
    if (reply.params.messages.length > 0) entry.oldestSeq = reply.params.messages[0].seq;
    entry.lines.unshift(...older);
    if (state.view === view) {
      const before = list.scrollHeight;
      list.prepend(...older.map(lineElement));
      list.scrollTop += list.scrollHeight - before;
    }
  } catch (error) {
    flash(describe(error));
  } finally {
    entry.loading = false;
  }
}

/// A list too short to scroll gives no way to page back: load on its behalf.
function fillIfShort() {
  const list = $("messages");
  if (list.scrollHeight <= list.clientHeight) loadOlder();
}

/// Checks once a burst of lines (a replay) has come in, rather than at its first line.
let fillTimer = null;
function scheduleFill() {
  clearTimeout(fillTimer);
  fillTimer = setTimeout(fillIfShort, 250);
}

export async function showHistory(count) {
  if (state.view?.kind !== "room") { flash("open a room first"); return; }
  const entry = room(state.view.name);
  const reply = await connection.request("history", { room: state.view.name, before: entry.oldestSeq ?? entry.lastSeq + 1, limit: count });
  const older = reply.params.messages.map((m) => ({ kind: "message", from: m.from, text: m.text, ts: m.ts, replay: true }));
  entry.more = reply.params.more;
  if (older.length > 0) entry.oldestSeq = reply.params.messages[0].seq;
  entry.lines.unshift(...older);
  render();
}

// ---- Rendering --------------------------------------------------------------------------------

function render() {
  renderRooms();
  const view = state.view;
  const list = $("messages");
  list.replaceChildren();
  $("leave").hidden = view?.kind !== "room" || !room(view.name).joined;
  if (!view) {
    $("title").textContent = "No room";
    $("subtitle").textContent = "Pick a room on the left, or create one.";
    $("members").replaceChildren();
    return;
  }
  const entry = view.kind === "room" ? room(view.name) : direct(view.name);
  $("title").textContent = view.kind === "room" ? view.name || "Notices" : `@${view.name}`;
  $("subtitle").textContent = "";
  list.append(...entry.lines.map(lineElement));
  list.scrollTop = list.scrollHeight;
  renderMembers();
  if (view.kind === "room" && entry.more) fillIfShort();
}

/// The open room's members, with their roles; clicking one opens a direct conversation.
function renderMembers() {
  const view = state.view;
  if (!view) { $("members").replaceChildren(); return; }
  const entry = view.kind === "room" ? room(view.name) : null;
  if (entry) $("subtitle").textContent = view.name ? `${entry.members.length}/${entry.info.limit} members${entry.info.private ? " · private" : ""}` : "";
  const members = entry ? entry.members : [state.me, view.name];
  $("members").replaceChildren(...members.map((name) => {
    const item = document.createElement("li");
    item.textContent = name;
    const role = entry?.roles[name];
    if (role) {
      const label = document.createElement("span");
      label.className = "role";
      label.textContent = role;
      item.append(label);
    }
    item.addEventListener("click", () => { if (name !== state.me) show("dm", name); });
    return item;
  }));
}

function renderRooms() {
  const items = [...state.rooms.entries()].filter(([name]) => name !== "").sort(([a], [b]) => a.localeCompare(b)).map(([name, entry]) => {
    const item = listItem(name, entry.unread, `${entry.joined ? entry.members.length : entry.info.count}/${entry.info.limit}`);
    if (entry.joined) item.classList.add("joined");
    if (state.view?.kind === "room" && state.view.name === name) item.classList.add("current");
    item.addEventListener("click", () => openRoom(name));
    return item;
  });
  $("rooms").replaceChildren(...items);
  $("directs").replaceChildren(...[...state.directs.entries()].map(([peer, entry]) => {
    const item = listItem(`@${peer}`, entry.unread, "");
    if (state.view?.kind === "dm" && state.view.name === peer) item.classList.add("current");
    item.addEventListener("click", () => show("dm", peer));
    return item;
  }));
}

function listItem(label, unread, count) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = label;
  item.append(name);
  if (unread > 0) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = String(unread);
    item.append(badge);
  }
  const counter = document.createElement("span");
  counter.className = "count";
  counter.textContent = count;
  item.append(counter);
  return item;
}

// ---- Typing -----------------------------------------------------------------------------------

$("compose").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("input");
  const line = input.value;
  if (!line.trim()) return;
  state.sentLines.push(line);
  input.value = "";
  try {
    if (line.startsWith("/")) await runCommand(line, context);
    else await say(line);
  } catch (error) {
    flash(describe(error));
    // A line that never left is kept to send again; one that may have arrived is not, or it could double.
    if (error?.code === "not_connected") input.value = line;
  }
});

$("input").addEventListener("keydown", (event) => {
  if (event.key === "ArrowUp" && $("input").value === "" && state.sentLines.length > 0) {
    event.preventDefault();
    $("input").value = state.sentLines[state.sentLines.length - 1];
  }
});

async function say(text) {
  const view = state.view;
  if (!view || view.name === "") { flash("join a room first: click one, or /join NAME"); return; }
  if (view.kind === "dm") await connection.request("dm", { to: view.name, text });
  else await connection.request("send", { room: view.name, text });
}

// What the slash commands may use.
const context = {
  state, connection, joinRoom, leaveRoom, show, flash, describe, showHistory, logOut, setRooms,
  changePassword: () => $("passwd").showModal(),
};

$("passwd-form").addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "ok") return;
  event.preventDefault();
  try {
    await connection.request("password", { old: $("passwd-old").value, new: $("passwd-new").value });
    flash("password changed; your other sessions were logged out", "notice");
    $("passwd").close();
  } catch (error) {
    flash(describe(error));
  } finally {
    $("passwd-old").value = "";
    $("passwd-new").value = "";
  }
});

resumeSaved();
