// Real Yjs material for the fuzz targets: edits replayed on a Y.Doc to get genuine updates and
// state vectors of every content type (strings, deletes, formats, embeds, any/binary values,
// nested types, subdocuments), and awareness updates, genuine or hand-encoded with odd clocks.
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { TEXT_NAME } from '@collab/collab-core';

let docs = 0;

/** A new Y.Doc with a counter for its guid: Yjs's random uuidv4 costs more than the rest of a small edit session. */
export function newDoc(options: { gc?: boolean } = {}): Y.Doc {
  return new Y.Doc({ ...options, guid: `fuzz-${++docs}` });
}

/** One edit of a document; positions are folded into the current lengths when replayed. */
export type DocOp =
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'bulk-insert'; readonly at: number; readonly unit: string; readonly times: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'format'; readonly at: number; readonly length: number; readonly attributes: Record<string, unknown> }
  | { readonly kind: 'embed'; readonly at: number; readonly value: Record<string, unknown> }
  | { readonly kind: 'map-set'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'map-delete'; readonly key: string }
  | { readonly kind: 'array-insert'; readonly at: number; readonly values: unknown[] }
  | { readonly kind: 'array-delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'nested'; readonly key: string; readonly type: 'text' | 'array' | 'map' | 'xml' | 'doc' };

/** Edits made by one client, transaction by transaction: each transaction is one update. */
export interface EditSession {
  /** Yjs client id; small ids collide on purpose (two "clients" claiming the same id). */
  readonly clientId: number;
  readonly transactions: readonly (readonly DocOp[])[];
}

/** What replaying an EditSession produced. */
export interface EditResult {
  readonly doc: Y.Doc;
  /** One update per transaction that changed anything, in order. */
  readonly updates: Uint8Array[];
  /** The state vector before each transaction, then the final one. */
  readonly stateVectors: Uint8Array[];
}

const keyArb = fc.constantFrom('a', 'b', 'title', '', '__proto__', 'κλειδί');
const textArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom('\n', '\r\n', '\u{1F600}', '\uD800', 'e\u0301', '\u0000') },
);
// fc.jsonValue costs five times as much to generate; these shapes are all Yjs and JSON care about.
const jsonLeafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
);
/** Arbitrary JSON value, at most one level of array or object. */
export const jsonArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: jsonLeafArb },
  { weight: 1, arbitrary: fc.array(jsonLeafArb, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), jsonLeafArb, { maxKeys: 3, noNullPrototype: true }) },
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: jsonArb },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, -0, Number.MAX_SAFE_INTEGER, 2 ** 40 + 0.5) },
);
// Y.Map stores undefined; Y.Array refuses it (a TypeError), so only the map gets it.
const mapValueArb = fc.oneof({ weight: 9, arbitrary: valueArb }, { weight: 1, arbitrary: fc.constant(undefined) });
const attributesArb = fc.oneof(
  fc.constantFrom<Record<string, unknown>>({ bold: true }, { bold: null }, { italic: true, color: '#f00' }),
  fc.dictionary(keyArb, jsonLeafArb, { maxKeys: 2, noNullPrototype: true }),
);

/** Arbitrary single edit, text edits likeliest (the server's documents are plain text). */
export const docOpArb: fc.Arbitrary<DocOp> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: textArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('format' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 6 }),
      attributes: attributesArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('embed' as const),
      at: fc.nat(),
      value: fc.dictionary(keyArb, jsonLeafArb, { maxKeys: 2, noNullPrototype: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('map-set' as const), key: keyArb, value: mapValueArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('map-delete' as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('array-insert' as const),
      at: fc.nat(),
      values: fc.array(valueArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('array-delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('nested' as const),
      key: keyArb,
      type: fc.constantFrom('text', 'array', 'map', 'xml', 'doc'),
    }),
  },
);

/** Arbitrary text edit: what a plain-text editor does (and all a client may send the server). */
export const textOpArb: fc.Arbitrary<DocOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: textArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }) },
);

/**
 * Arbitrary long insert (a paste, or a file read in), up to `maxChars` UTF-16 units: documents
 * whose state outgrows a frame. Units of 1 to 4 UTF-8 bytes, surrogate pairs included.
 */
export function bulkInsertArb(maxChars: number): fc.Arbitrary<DocOp> {
  return fc.record({
    kind: fc.constant('bulk-insert' as const),
    at: fc.nat(),
    unit: fc.constantFrom('a', 'line\n', 'é', '€', '\u{1F600}', 'ab\u{1F600}'),
    // Mostly a few hundred characters (one frame of 1 KiB holds them), sometimes up to maxChars.
    times: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: Math.min(250, maxChars) }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: maxChars }) },
    ),
  });
}

/** Arbitrary edit session: 1 to `maxTransactions` transactions of 1 to 4 edits (of `opArb`, any kind by default). */
export function editSessionArb(maxTransactions = 4, opArb: fc.Arbitrary<DocOp> = docOpArb): fc.Arbitrary<EditSession> {
  return fc.record({
    clientId: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 ** 32 - 1 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 3) },
    ),
    transactions: fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: maxTransactions }),
  });
}

function newType(type: 'text' | 'array' | 'map' | 'xml' | 'doc'): unknown {
  switch (type) {
    case 'text':
      return new Y.Text('nested');
    case 'array':
      return Y.Array.from([1, 'two']);
    case 'map':
      return new Y.Map([['k', 'v']]);
    case 'xml': {
      const element = new Y.XmlElement('p');
      element.insert(0, [new Y.XmlText('x')]);
      return element;
    }
    case 'doc':
      return newDoc();
  }
}

/** Replays one edit on `doc` (inside the caller's transaction). */
export function applyDocOp(doc: Y.Doc, op: DocOp): void {
  const text = doc.getText(TEXT_NAME);
  const map = doc.getMap('meta');
  const array = doc.getArray('list');
  switch (op.kind) {
    case 'insert':
      if (op.text) text.insert(op.at % (text.length + 1), op.text);
      return;
    case 'bulk-insert': {
      // Whole units only: a position inside a surrogate pair would split it.
      const at = op.at % (text.length + 1);
      const code = at > 0 ? text.toString().charCodeAt(at - 1) : 0;
      text.insert(code >= 0xd800 && code <= 0xdbff ? at - 1 : at, op.unit.repeat(Math.ceil(op.times / op.unit.length)));
      return;
    }
    case 'delete': {
      if (!text.length) return;
      const at = op.at % text.length;
      text.delete(at, Math.min(op.length, text.length - at));
      return;
    }
    case 'format': {
      if (!text.length) return;
      const at = op.at % text.length;
      text.format(at, Math.min(op.length, text.length - at), op.attributes);
      return;
    }
    case 'embed':
      text.insertEmbed(op.at % (text.length + 1), op.value);
      return;
    case 'map-set':
      map.set(op.key, op.value as never);
      return;
    case 'map-delete':
      map.delete(op.key);
      return;
    case 'array-insert':
      array.insert(op.at % (array.length + 1), op.values as never[]);
      return;
    case 'array-delete': {
      if (!array.length) return;
      const at = op.at % array.length;
      array.delete(at, Math.min(op.length, array.length - at));
      return;
    }
    case 'nested':
      map.set(op.key, newType(op.type) as never);
      return;
  }
}

/** Replays a session on a fresh doc (or one that starts from `base`), recording each transaction's update; `clientId` overrides the session's. */
export function replayEdits(session: EditSession, base?: Uint8Array, clientId = session.clientId): EditResult {
  const doc = newDoc({ gc: true });
  if (base) Y.applyUpdate(doc, base);
  // Set after the base: a client id already in it is a client resuming its own history.
  doc.clientID = clientId;
  const updates: Uint8Array[] = [];
  const stateVectors: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (const ops of session.transactions) {
    stateVectors.push(Y.encodeStateVector(doc));
    doc.transact(() => {
      for (const op of ops) applyDocOp(doc, op);
    });
  }
  stateVectors.push(Y.encodeStateVector(doc));
  return { doc, updates, stateVectors };
}

/** One awareness entry as it travels: any client id and clock, a JSON state or null (gone). */
export interface AwarenessEntry {
  readonly clientId: number;
  readonly clock: number;
  readonly state: unknown;
}

/** Arbitrary awareness entry, with the clocks and ids that make Awareness decide differently. */
export const awarenessEntryArb: fc.Arbitrary<AwarenessEntry> = fc.record({
  clientId: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.maxSafeNat()),
  clock: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.maxSafeNat()),
  state: fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.record({ user: fc.record({ name: fc.string({ maxLength: 8 }), color: fc.constantFrom('#f00', '') }) }) },
    { weight: 1, arbitrary: jsonArb },
  ),
});

/** Encodes entries exactly as y-protocols' encodeAwarenessUpdate lays them out. */
export function encodeAwarenessEntries(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, JSON.stringify(entry.state) ?? 'null');
  }
  return encoding.toUint8Array(encoder);
}

/** A genuine awareness update: a y-protocols Awareness of `doc` setting its local state. */
export function realAwarenessUpdate(doc: Y.Doc, state: Record<string, unknown> | null): Uint8Array {
  const awareness = new Awareness(doc);
  try {
    awareness.setLocalState(state);
    return encodeAwarenessUpdate(awareness, [doc.clientID]);
  } finally {
    awareness.destroy();
  }
}
