// The slash commands, as the terminal client has them: one entry each, with its usage and help.
const commands = [
  ["help", "/help", "show this help", 0, 0, async (c) => {
    for (const [, usage, summary] of commands) c.flash(`${usage.padEnd(30)} ${summary}`, "notice");
  }],
  ["rooms", "/rooms", "list rooms", 0, 0, async (c) => {
    const rooms = (await c.connection.request("rooms")).params.rooms;
    c.setRooms(rooms);
    c.flash(rooms.map((r) => `${r.name} ${r.count}/${r.limit}`).join(", ") || "no rooms yet", "notice");
  }],
  ["who", "/who [ROOM]", "list a room's members", 0, 1, async (c, [room]) => {
    const reply = await c.connection.request("who", { room: room ?? current(c) });
    c.flash(`${reply.params.room} (${reply.params.members.length}/${reply.params.limit}): ${reply.params.members.join(", ")}`, "notice");
  }],
  ["join", "/join ROOM", "join a room and talk there", 1, 1, async (c, [room]) => {
    c.show("room", await c.joinRoom(room));
  }],
  ["history", "/history [N]", "show N earlier messages of this room (default 20)", 0, 1, async (c, [count]) => {
    await c.showHistory(Math.min(200, Math.max(1, Number(count ?? 20) || 20)));
  }],
  ["leave", "/leave [ROOM]", "leave a room (default: the current one)", 0, 1, async (c, [room]) => {
    await c.leaveRoom(room ?? current(c));
  }],
  ["switch", "/switch ROOM", "talk in another room you are in", 1, 1, async (c, [room]) => {
    const name = [...c.state.rooms.keys()].find((key) => key.toLowerCase() === room.toLowerCase());
    if (!name || !c.state.rooms.get(name).joined) throw { message: `you are not in ${room}: /join it first` };
    c.show("room", name);
  }],
  ["create", "/create ROOM LIMIT [private]", "create a room", 2, 3, async (c, [room, limit, privacy]) => {
    await c.connection.request("create_room", { room, limit: Number(limit), private: privacy === "private" });
    c.show("room", await c.joinRoom(room));
  }],
  ["msg", "/msg USER TEXT", "send a direct message", 2, Infinity, async (c, [to, ...words]) => {
    const reply = await c.connection.request("dm", { to, text: words.join(" ") });
    c.show("dm", reply.params.to);
  }],
  ["close", "/close ROOM", "close a room (its owner or an admin)", 1, 1, async (c, [room]) => {
    await c.connection.request("close_room", { room });
  }],
  ["kick", "/kick ROOM USER", "remove a user from a room", 2, 2, async (c, [room, user]) => {
    await c.connection.request("kick", { room, user });
  }],
  ...["op", "deop", "ban", "unban", "invite", "uninvite"].map((event) => [
    event, `/${event} ROOM USER`, `${event} a user in a room`, 2, 2, async (c, [room, user]) => {
      await c.connection.request(event, { room, user });
      c.flash(`${event}: ${user} in ${room}`, "notice");
    }]),
  ["passwd", "/passwd", "change your account's password", 0, 0, async (c) => c.changePassword()],
  ["quit", "/quit", "log out", 0, 0, async (c) => c.logOut()],
];

function current(c) {
  if (c.state.view?.kind === "room" && c.state.view.name) return c.state.view.name;
  throw { message: "you are in no room: name one" };
}

export async function runCommand(line, context) {
  const [name, ...args] = line.slice(1).split(/\s+/).filter((word) => word.length > 0);
  const command = commands.find(([key]) => key === name);
  if (!command) { context.flash(`unknown command '/${name ?? ""}'; /help lists the commands`); return; }
  const [, usage, , min, max, run] = command;
  if (args.length < min || args.length > max) { context.flash(`usage: ${usage}`); return; }
  await run(context, args);
}
