// y-websocket's standard WebsocketProvider, with a thin layer for what collab-server adds when
// asked (`?ack=1`): ACK, so the page can say "saved" only once the server has stored its edits.
// The layer is a WebSocket subclass handed to the provider as its WebSocket class: it counts the
// document-changing messages the provider sends on each connection, which is what ACK counts,
// and holds back an update sent before the provider has answered the server's sync step 1 (right
// after a reconnect): the server would refuse it as needing changes it lacks, and the step 2
// that follows carries it anyway.

import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { MessageType, SyncType, syncTypeOf } from './protocol';
import { SaveTracker } from './save-tracker';

/** What the layer needs of a WebSocket class: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  send(data: ArrayBufferLike | ArrayBufferView | string | Blob, ...rest: never[]): void;
}
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** How to reach a document. */
export interface AckingProviderOptions {
  /** `ws://host:port` or `wss://host:port`. */
  serverUrl: string;
  document: string;
  doc: Y.Doc;
  /** The server's token, if it has one. */
  token?: string;
  /** The name the server's logs show for this connection. */
  name?: string;
  /** The WebSocket class (default: the global one, as in a browser). */
  WebSocket?: WebSocketClass;
  /** Passed to WebsocketProvider (default true). */
  connect?: boolean;
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** A WebsocketProvider with ACK: `tracker.saved` says whether every local edit is stored. */
export class AckingProvider {
  readonly provider: WebsocketProvider;
  readonly tracker = new SaveTracker();
  private readonly doc: Y.Doc;
  private readonly onLocalUpdate: (update: Uint8Array, origin: unknown) => void;

  constructor(options: AckingProviderOptions) {
    const { doc } = options;
    this.doc = doc;
    const tracker = this.tracker;
    // Counted before the provider sends the edit: this listener is registered first.
    this.onLocalUpdate = (_update, origin) => {
      if (origin !== this.provider) tracker.localEdit();
    };
    doc.on('update', this.onLocalUpdate);
    const Base = (options.WebSocket ?? (globalThis as unknown as { WebSocket: WebSocketClass }).WebSocket) as WebSocketClass;
    class AckingSocket extends Base {
      private answeredStepOne = false;
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        tracker.newConnection();
      }
      override send(data: ArrayBufferLike | ArrayBufferView | string | Blob): void {
        const bytes = bytesOf(data);
        const syncType = bytes && syncTypeOf(bytes);
        if (syncType === SyncType.Update && !this.answeredStepOne) return; // the step 2 will carry it
        if (syncType === SyncType.Step2) this.answeredStepOne = true;
        if (syncType === SyncType.Step2 || syncType === SyncType.Update) tracker.changeSent();
        super.send(data);
      }
    }
    const params: Record<string, string> = { ack: '1' };
    if (options.name) params.name = options.name;
    if (options.token) params.token = options.token;
    this.provider = new WebsocketProvider(options.serverUrl, options.document, doc, {
      params,
      WebSocketPolyfill: AckingSocket as unknown as typeof WebsocketProvider.prototype._WS,
      connect: options.connect ?? true,
      // Each tab talks to the server itself: what it shows as saved is what it sent.
      disableBc: true,
    });
    this.provider.messageHandlers[MessageType.Ack] = (_encoder, decoder) => tracker.acknowledged(decoding.readVarUint(decoder));
    this.provider.messageHandlers[MessageType.Pong] = () => undefined;
  }

  /** The name the server's logs show, from the next connection on. */
  setName(name: string): void {
    this.provider.params.name = name;
  }

  /** Disconnects and stops listening. */
  destroy(): void {
    this.doc.off('update', this.onLocalUpdate);
    this.provider.destroy();
  }
}
