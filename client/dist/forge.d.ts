/**
 * forge's client for browsers and Node: one dependency-free ES module that
 * speaks forge's events envelope, {"event", "id", "payload"}, or the
 * command envelope, {"channel", "cmd", "param"}, over one WebSocket that it
 * keeps open.
 *
 * - `emit` sends an event; `request` sends one with an id and returns a
 *   Promise of the reply (the "<event>.ack" message), rejected with a
 *   {@link ForgeError} by the error event, a timeout or a lost connection.
 * - `on` listens to server events; `handle` answers the server's requests
 *   with the handler's return value.
 * - It reconnects with exponential backoff and full jitter, re-joins the
 *   rooms joined with `join`, re-sends the token as the "bearer.<token>"
 *   subprotocol entry (asking a token function for a fresh one first), and
 *   stops, saying why, on the close codes that retrying cannot fix (4401,
 *   1008, 1003).
 * - While disconnected, messages wait in a queue bounded in bytes; see
 *   {@link ClientOptions.queueBytes} for what is dropped and how it shows.
 * - A heartbeat probes a silent link and replaces a dead one.
 * - In rooms with history, it remembers the position of the last message
 *   of each room and reconnects with ?recover=room:epoch:offset, so that
 *   the server replays what was missed; the server's "recovery" event says
 *   whether that worked.
 *
 * @module
 */
/** The wire format of a connection's messages. */
export type EnvelopeMode = "event" | "command";
/** A message's place in a room's history. */
export interface StreamPosition {
    room: string;
    /** The life of the room's history; it changes when the history is lost. */
    epoch: string;
    /** The message's number in the epoch. */
    offset: number;
}
/** What a received message carried besides its payload. */
export interface Meta {
    event: string;
    id?: string;
    /** The channel of the command envelope. */
    channel?: string;
    /** The message's place in its room's history, for rooms with history. */
    position?: StreamPosition;
}
/**
 * The events of an API, as the generator (forge-client-gen) writes them
 * from an AsyncAPI document: what the client sends, with the reply's
 * payload; what the server sends; and the server's requests, with the
 * payload of the client's answer.
 */
export interface API {
    client: object;
    server: object;
    requests: object;
}
/** An API whose events are not known: any name, any payload. */
export interface UntypedAPI extends API {
    client: {
        [event: string]: {
            payload: any;
            reply: any;
        };
    };
    server: {
        [event: string]: any;
    };
    requests: {
        [event: string]: {
            payload: any;
            reply: any;
        };
    };
}
type Names<T> = Extract<keyof T, string>;
type PayloadOf<T, K extends keyof T> = T[K] extends {
    payload: infer P;
} ? P : never;
type ReplyOf<T, K extends keyof T> = T[K] extends {
    reply: infer R;
} ? R : never;
/**
 * ForgeError rejects a request. Its code is the error event's (such as
 * "invalid_payload" or "forbidden"), or one of the client's own:
 * "timeout" (no reply in time), "disconnected" (the connection was lost
 * after the request was sent, so whether the server handled it is not
 * known), "dropped" (the offline queue had no room for it) and "closed"
 * (the client was closed).
 */
export declare class ForgeError extends Error {
    readonly code: string;
    constructor(code: string, message: string);
}
/** How a connection ended. */
export interface CloseInfo {
    code: number;
    reason: string;
    /** Whether the client will connect again. */
    willRetry: boolean;
}
/** A reconnection scheduled after a connection was lost or refused. */
export interface ReconnectInfo {
    /** 1 for the first reconnection after a loss, 2 for the next... */
    attempt: number;
    /** The wait before it, in milliseconds. */
    delay: number;
    /** The close code of the connection that was lost (1006 when the handshake failed). */
    code: number;
    reason: string;
}
/** What the server's "recovery" event said of one room. */
export interface RecoveryInfo {
    room: string;
    /** False when the history could not continue from the position given: fetch the room's state anew. */
    recovered: boolean;
    /** How many missed messages the server sent before the event. */
    replayed: number;
    /** The position the client asked to continue from. */
    from?: StreamPosition;
    /** The room's position after the replay. */
    position: StreamPosition;
}
/**
 * A jump in a room's offsets seen on the live stream (or a new epoch). A
 * broadcast that left this connection out (the events package's except,
 * such as a chat's own messages) shows as a gap too: ask the server with
 * {@link Client.position} when it matters.
 */
export interface GapInfo {
    room: string;
    from: StreamPosition;
    to: StreamPosition;
}
/** A message the offline queue dropped. */
export interface DropInfo {
    event: string;
    bytes: number;
    /** Why: "full" when the queue had no room, "closed" when the client was closed with messages waiting. */
    reason: "full" | "closed";
}
/** The client's lifecycle reports, for {@link Client.listen}. */
export interface Reports {
    /** A connection opened; `reconnect` is false for the first. */
    open: {
        reconnect: boolean;
    };
    /** A connection ended. */
    close: CloseInfo;
    /** A reconnection is scheduled. */
    reconnect: ReconnectInfo;
    /** The client gave up: a close code retrying cannot fix, too many attempts, a URL it cannot use, or close(). */
    stop: {
        code: number;
        reason: string;
    };
    /** The server's "recovery" event for a room given in ?recover=. */
    recovery: RecoveryInfo;
    /** Offsets jumped on a live stream. */
    gap: GapInfo;
    /** The offline queue dropped a message. */
    drop: DropInfo;
    /** An error event that answered no request of this client, or a server request's handler that failed. */
    error: {
        code: string;
        message: string;
        event?: string;
    };
}
/** The client's counters. */
export interface Stats {
    /** Connections attempted, the first included. */
    attempts: number;
    /** Connections that opened. */
    opens: number;
    sent: number;
    received: number;
    /** Messages and bytes the offline queue dropped. */
    dropped: number;
    droppedBytes: number;
    /** What waits in the offline queue now. */
    queued: number;
    queuedBytes: number;
    /** Messages of rooms with history that repeated an offset already seen, and were not delivered again. */
    duplicates: number;
    /** Links the heartbeat found dead. */
    heartbeatTimeouts: number;
}
/** Supplies the token for the next connection; undefined connects without one. */
export type TokenSource = (ctx: {
    attempt: number;
    close?: CloseInfo;
}) => string | undefined | Promise<string | undefined>;
/** The parts of the WebSocket API the client uses (the browser's, or Node's). */
export interface WebSocketLike {
    readonly readyState: number;
    readonly protocol: string;
    onopen: ((ev: any) => void) | null;
    onclose: ((ev: {
        code: number;
        reason: string;
    }) => void) | null;
    onmessage: ((ev: {
        data: any;
    }) => void) | null;
    onerror: ((ev: any) => void) | null;
    send(data: string): void;
    close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string[]) => WebSocketLike;
export interface ClientOptions {
    /** The WebSocket URL (ws:, wss:, or http(s): and a path relative to the page, which become ws: or wss:). */
    url: string | URL;
    /** The route's subprotocols, offered before the token's entry. */
    protocols?: string[];
    /**
     * The token, sent as the subprotocol entry tokenPrefix + token; a
     * function is asked before every connection, so it can refresh an
     * expired token before the client reconnects. forge never echoes the
     * token's entry, and a browser fails a handshake answered with none of
     * the subprotocols it offered: give the route a subprotocol
     * (forge.WithSubprotocols) and list it in protocols. Without one, the
     * client reports an error with code "no_subprotocol".
     */
    token?: string | TokenSource;
    /** The subprotocol prefix of the token; "bearer." by default (auth.JWT's). */
    tokenPrefix?: string;
    /** "event" (default) for {"event", "id", "payload"}, "command" for {"channel", "cmd", "param"}. */
    envelope?: EnvelopeMode;
    /** The command envelope's channel when a call names none. */
    channel?: string;
    /** Query parameters added to the URL. */
    query?: Record<string, string>;
    /** The server events to receive (?events=); all when absent. Changed by subscribe and unsubscribe. */
    events?: string[];
    /** The events and payload of join and leave; by default "join" and "leave" with {room}. */
    rooms?: {
        join?: string;
        leave?: string;
        payload?: (room: string) => unknown;
    };
    /**
     * Reconnection: the delay before attempt n (from 0) is random() ×
     * min(max, min × 2^n) milliseconds ("full jitter"), by default min 500
     * and max 30000, without a limit on attempts (min is at least 1, and
     * max at least min). false never reconnects.
     */
    reconnect?: {
        min?: number;
        max?: number;
        maxAttempts?: number;
    } | false;
    /** The random source of the jitter, in [0, 1); Math.random by default. */
    random?: () => number;
    /**
     * Decides whether to reconnect after a close code that retrying cannot
     * fix by itself: 4401 (authentication expired or refused), 1008 (policy
     * violation) and 1003 (unsupported data). By default the client
     * reconnects after 4401 only when token is a function (which can
     * refresh it) and the last connection opened, and never after 1008 or
     * 1003.
     */
    retryClose?: (info: {
        code: number;
        reason: string;
    }) => boolean;
    /** How long a request waits for its reply, in milliseconds, queued time included; 10000 by default. */
    requestTimeout?: number;
    /**
     * The offline queue's capacity in bytes (UTF-8 of the encoded messages),
     * 262144 by default; 0 disables the queue. A message sent while the
     * connection is down waits in order, and is sent once it is back. A
     * message that does not fit is dropped, the newest one and never those
     * already waiting, so that what is sent stays in order: emit returns
     * false, request rejects with code "dropped", a "drop" report says so,
     * and stats() counts it. A request whose timeout passes while queued
     * leaves the queue.
     */
    queueBytes?: number;
    /**
     * Dead-link detection: when nothing arrived for interval milliseconds
     * (25000), the client sends a probe request and, when nothing at all
     * arrives within timeout (10000), drops the connection and reconnects.
     * The probe is the event's request (by default the built-in
     * "unsubscribe" of an event name no server emits, which forge answers;
     * "ping" with the command envelope); any answer counts, an error too.
     */
    heartbeat?: {
        interval?: number;
        timeout?: number;
        event?: string;
        payload?: unknown;
    } | false;
    /** Whether to send ?recover= for the rooms whose position is known (true). */
    recover?: boolean;
    /** The WebSocket constructor; globalThis.WebSocket by default. */
    WebSocket?: WebSocketConstructor;
}
/** Per-call options of emit and request. */
export interface SendOptions {
    /** The command envelope's channel; the client's channel option when absent. */
    channel?: string;
}
/** Per-call options of request. */
export interface RequestOptions extends SendOptions {
    /** Milliseconds to wait for the reply; the client's requestTimeout when absent. */
    timeout?: number;
}
/** The client's state. */
export type State = "idle" | "connecting" | "open" | "waiting" | "closed";
type ReportListener<K extends keyof Reports> = (r: Reports[K]) => void;
/**
 * Client is one logical connection to a forge WebSocket route, which it
 * reopens when it is lost. A is the route's API, as generated by
 * forge-client-gen; without it, every event name and payload is allowed.
 *
 * It is safe to call from any code of a single JavaScript thread; calls
 * made while the connection is down are queued (see queueBytes).
 */
export declare class Client<A extends API = UntypedAPI> {
    private readonly opts;
    private readonly mode;
    private readonly base;
    private readonly random;
    private readonly queue;
    private ws;
    private st;
    private nextID;
    private pending;
    private listeners;
    private anyListeners;
    private handlers;
    private reports;
    private joined;
    private subs;
    private unsubs;
    private positions;
    private recovering;
    private attempt;
    private retryTimer;
    private lastClose;
    private openedSinceClose;
    private hb;
    private counters;
    constructor(opts: ClientOptions);
    /** The client's state: idle before connect, then connecting, open, waiting (to reconnect) or closed. */
    get state(): State;
    /** stats returns the client's counters. */
    stats(): Stats;
    /** positions returns the last position seen in each room with history. */
    roomPositions(): StreamPosition[];
    /** connect opens the connection; the client then keeps it open until close. */
    connect(): this;
    /**
     * close ends the connection for good (code 1000): pending requests
     * reject with "closed", queued messages are dropped and reported.
     */
    close(code?: number, reason?: string): void;
    /**
     * emit sends an event without asking for a reply. It returns false when
     * the message was dropped: the client is closed, or the connection is
     * down and the offline queue is full.
     */
    emit<K extends Names<A["client"]>>(event: K, payload: PayloadOf<A["client"], K>, opts?: SendOptions): boolean;
    /**
     * request sends an event with an id and resolves with the payload of
     * its reply; it rejects with a {@link ForgeError}.
     */
    request<K extends Names<A["client"]>>(event: K, payload: PayloadOf<A["client"], K>, opts?: RequestOptions): Promise<ReplyOf<A["client"], K>>;
    private call;
    /** on listens to a server event; it returns the function that stops listening. */
    on<K extends Names<A["server"]>>(event: K, fn: (payload: A["server"][K], meta: Meta) => void): () => void;
    /** onAny listens to every server event that is not a reply. */
    onAny(fn: (event: string, payload: unknown, meta: Meta) => void): () => void;
    /**
     * handle answers the server's request event with fn's return value (or
     * the value of the Promise it returns); a thrown error is answered with
     * an error event, its code the error's code property or "internal".
     * A request without a handler is answered with "unknown_event".
     */
    handle<K extends Names<A["requests"]>>(event: K, fn: (payload: PayloadOf<A["requests"], K>, meta: Meta) => ReplyOf<A["requests"], K> | Promise<ReplyOf<A["requests"], K>>): () => void;
    /** listen follows the client's lifecycle; it returns the function that stops listening. */
    listen<K extends keyof Reports>(kind: K, fn: ReportListener<K>): () => void;
    /**
     * join asks the server to put the connection in room (the rooms
     * option's join event) and remembers it, to join it again after a
     * reconnection.
     */
    join(room: string, opts?: RequestOptions): Promise<unknown>;
    /** leave asks the server to take the connection out of room and forgets it. */
    leave(room: string, opts?: RequestOptions): Promise<unknown>;
    /**
     * position asks the server where room stands (the built-in "position"
     * request of rooms with history) and compares it with the last message
     * this client saw there: missed is how many messages it has not seen,
     * or undefined when the epochs differ (the history was lost) or it saw
     * none.
     */
    position(room: string, opts?: RequestOptions): Promise<{
        room: string;
        position: StreamPosition;
        seen?: StreamPosition;
        missed?: number;
    }>;
    /** subscribe adds server events to those received, now and after reconnections. */
    subscribe(events: string[], opts?: RequestOptions): Promise<unknown>;
    /** unsubscribe removes server events from those received, now and after reconnections. */
    unsubscribe(events: string[], opts?: RequestOptions): Promise<unknown>;
    private changeSubs;
    private roomPayload;
    private channelOf;
    private sendOrQueue;
    private sendNow;
    private dropped;
    private report;
    private open;
    private opened;
    private lost;
    private failPending;
    private received;
    private deliver;
    private track;
    private recovered;
    private answer;
    private startHeartbeat;
    private stopHeartbeat;
}
/** connect makes a client and connects it. */
export declare function connect<A extends API = UntypedAPI>(opts: ClientOptions): Client<A>;
export {};
