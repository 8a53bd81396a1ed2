import { subscribe, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * Shared subscriptions for graphql-ws: subscribers of the same document, variables and grant
 * (role, identity, kiosk) share one source stream, one execution and one serialisation per event.
 * Each event's result is formatted and turned into JSON once; every member then gets a `next`
 * frame built from that JSON and its own subscription id, written straight to its socket.
 *
 * A member is an async iterator handed to graphql-ws that never yields: it ends when the shared
 * stream ends (graphql-ws then sends `complete`), fails when the stream fails (graphql-ws sends
 * `error`), and leaves the group when graphql-ws returns it (the client completed or closed). The
 * last member to leave ends the shared stream. A subscription that cannot start (unknown field,
 * refused grant) answers its own result and joins nothing.
 */

/** Where a member's frames go: its socket and its subscription id. */
export interface Member {
  id: string;
  send(frame: string): void;
}

interface Group {
  members: Set<Sink>;
  /** the source, once graphql-js has started it (null while starting) */
  source: AsyncIterator<ExecutionResult> | null;
  /** set when the group is over: members end (null error) or fail with it */
  ended: { error: unknown } | null;
}

interface Sink {
  prefix: string;
  send(frame: string): void;
  end(error: unknown): void;
}

export interface FanoutStats {
  groups: number;
  members: number;
  /** executions (graphql-js subscribe calls) and serialisations (one per event per group) so far */
  executions: number;
  serialisations: number;
}

export class SharedSubscriptions {
  private readonly groups = new Map<string, Group>();
  private readonly starting = new Map<string, Promise<Group | ExecutionResult>>();
  private executions = 0;
  private serialisations = 0;

  /**
   * `format` shapes each event's result once for all members; `joined` is called as a member
   * joins (the box's subscriber gauge) and returns what to call when it leaves.
   */
  constructor(
    private readonly format: (result: ExecutionResult) => ExecutionResult,
    private readonly joined: () => () => void = () => () => {},
  ) {}

  stats(): FanoutStats {
    let members = 0;
    for (const group of this.groups.values()) members += group.members.size;
    return { groups: this.groups.size, members, executions: this.executions, serialisations: this.serialisations };
  }

  /**
   * Joins the group of `key` (starting it with `args` when there is none) and returns what
   * graphql-ws iterates for this member, or the result of a subscription that could not start.
   */
  async join(key: string, args: ExecutionArgs, member: Member): Promise<AsyncGenerator<never> | ExecutionResult> {
    const group = this.groups.get(key) ?? (await (this.starting.get(key) ?? this.start(key, args)));
    if (!('members' in group)) return group;
    // The group may have ended while this member waited for it to start: start a fresh one.
    if (group.ended) return this.join(key, args, member);
    return this.enrol(key, group, member);
  }

  private start(key: string, args: ExecutionArgs): Promise<Group | ExecutionResult> {
    const started = (async (): Promise<Group | ExecutionResult> => {
      this.executions++;
      const result = await subscribe(args);
      if (!(Symbol.asyncIterator in result)) return result;
      const group: Group = { members: new Set(), source: result[Symbol.asyncIterator](), ended: null };
      this.groups.set(key, group);
      void this.pump(key, group);
      return group;
    })().finally(() => this.starting.delete(key));
    this.starting.set(key, started);
    return started;
  }

  private async pump(key: string, group: Group): Promise<void> {
    let error: unknown = null;
    try {
      for (;;) {
        const step = await group.source!.next();
        if (step.done) break;
        if (group.members.size === 0) continue;
        this.serialisations++;
        const payload = JSON.stringify(this.format(step.value));
        for (const sink of group.members) sink.send(`${sink.prefix}${payload}}`);
      }
    } catch (e) {
      error = e ?? new Error('subscription failed');
    }
    this.finish(key, group, error);
  }

  private finish(key: string, group: Group, error: unknown): void {
    if (group.ended) return;
    group.ended = { error };
    if (this.groups.get(key) === group) this.groups.delete(key);
    for (const sink of group.members) sink.end(error);
    group.members.clear();
  }

  private leave(key: string, group: Group, sink: Sink): void {
    group.members.delete(sink);
    if (group.members.size > 0 || group.ended) return;
    // The last member left: end the shared stream (its generator's return stops the resolver's watch).
    this.finish(key, group, null);
    void group.source?.return?.();
  }

  private enrol(key: string, group: Group, member: Member): AsyncGenerator<never> {
    let settle!: (step: IteratorResult<never>) => void;
    let fail!: (error: unknown) => void;
    const over = new Promise<IteratorResult<never>>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    // A member that never asked for its next step must not leave an unhandled rejection behind.
    over.catch(() => undefined);
    const done: IteratorResult<never> = { done: true, value: undefined };
    const sink: Sink = {
      prefix: `{"id":${JSON.stringify(member.id)},"type":"next","payload":`,
      send: member.send,
      end: (error) => {
        left();
        if (error === null) settle(done);
        else fail(error);
      },
    };
    group.members.add(sink);
    const left = this.joined();
    const quit = () => {
      left();
      this.leave(key, group, sink);
    };
    const iterator = {
      next: () => over,
      return: () => {
        quit();
        settle(done);
        return Promise.resolve(done);
      },
      throw: (error: unknown) => {
        quit();
        settle(done);
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator as unknown as AsyncGenerator<never>;
  }
}
