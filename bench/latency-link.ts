// A network round trip for the bench: a TCP forwarder in front of a server that holds every chunk for half
// the round trip in each direction before passing it on, so a request and its answer take at least one
// round trip, however many connections are open. Bandwidth is not limited; order is kept per direction
// (one queue for every connection: the delay is the same for all, so due times only grow). With a round
// trip of 0 it forwards at once.
//
// Each connection to the link opens one to the target; either side's end or error ends the other
// (after the delay, for an orderly end). When a receiving socket's buffer is full, the sending one is
// paused until it drains, so a slow reader does not make the link hold unbounded data.
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

interface Held {
  due: number;
  to: Socket;
  from: Socket;
  /** null: the sender ended its side. */
  chunk: Buffer | null;
}

export interface LinkStats {
  /** Connections accepted since the start (or the last reset). */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Most connections open at once. */
  peakOpen: number;
  /** Bytes forwarded towards the target and back. */
  bytesUp: number;
  bytesDown: number;
  /** Chunks (socket reads) forwarded each way: each is one timer entry and one write on the link. */
  chunksUp: number;
  chunksDown: number;
}

export class LatencyLink {
  private queue: Held[] = [];
  private head = 0;
  private timer?: NodeJS.Timeout;
  private timerDue = Infinity;
  private halfMs: number;
  private readonly sockets = new Set<Socket>();
  readonly stats: LinkStats = {
    connections: 0,
    open: 0,
    peakOpen: 0,
    bytesUp: 0,
    bytesDown: 0,
    chunksUp: 0,
    chunksDown: 0,
  };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
    rttMs: number,
  ) {
    this.halfMs = rttMs / 2;
  }

  /** A link on a free port of 127.0.0.1 in front of `target` (a port on 127.0.0.1, or host and port). */
  static async start(target: number | { host: string; port: number }, rttMs: number): Promise<LatencyLink> {
    const to = typeof target === "number" ? { host: "127.0.0.1", port: target } : target;
    const holder: { self?: LatencyLink } = {};
    const server = createServer({ noDelay: true }, (socket) => holder.self?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => resolve());
    });
    holder.self = new LatencyLink(server, (server.address() as AddressInfo).port, to, rttMs);
    return holder.self;
  }

  get rttMs(): number {
    return this.halfMs * 2;
  }

  /** Change the round trip for chunks sent from now on. */
  set rttMs(ms: number) {
    this.halfMs = ms / 2;
  }

  resetStats(): void {
    Object.assign(this.stats, {
      connections: 0,
      peakOpen: this.stats.open,
      bytesUp: 0,
      bytesDown: 0,
      chunksUp: 0,
      chunksDown: 0,
    });
  }

  /** Close the listener and every connection through it. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    this.stats.open++;
    this.stats.peakOpen = Math.max(this.stats.peakOpen, this.stats.open);
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.sockets.add(client);
    this.sockets.add(upstream);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.stats.open--;
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      this.stats.bytesUp += chunk.length;
      this.stats.chunksUp++;
      this.pass(client, upstream, chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      this.stats.bytesDown += chunk.length;
      this.stats.chunksDown++;
      this.pass(upstream, client, chunk);
    });
    client.on("end", () => this.pass(client, upstream, null));
    upstream.on("end", () => this.pass(upstream, client, null));
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    client.on("drain", () => upstream.resume());
    upstream.on("drain", () => client.resume());
  }

  private pass(from: Socket, to: Socket, chunk: Buffer | null): void {
    if (this.halfMs <= 0 && this.head === this.queue.length) {
      this.deliver(from, to, chunk);
      return;
    }
    const due = performance.now() + this.halfMs;
    this.queue.push({ due, to, from, chunk });
    this.schedule();
  }

  private deliver(from: Socket, to: Socket, chunk: Buffer | null): void {
    if (to.destroyed) return;
    if (chunk === null) {
      to.end();
      return;
    }
    if (!to.write(chunk)) from.pause();
  }

  private schedule(): void {
    if (this.head >= this.queue.length) return;
    const due = this.queue[this.head].due;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.ceil(due - performance.now())));
  }

  private flush(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = performance.now();
    const q = this.queue;
    while (this.head < q.length && q[this.head].due <= now) {
      const held = q[this.head];
      q[this.head++] = undefined as unknown as Held;
      this.deliver(held.from, held.to, held.chunk);
    }
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    this.schedule();
  }
}
