// Yjs updates that change more than the text, written byte by byte (lib0 encoding, Yjs's update
// format v1): one item of a content kind a plain-text document never holds, or a string where
// the text is not. The server refuses every one with ERROR 3 (issue 12). Nesting is written
// without recursion, so an Any or JSON value thousands of levels deep costs nothing to build,
// while anything that reads or re-encodes it recursively (lib0's readAny and writeAny, or
// JSON.stringify) overflows its stack.
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { TEXT_NAME } from '@collab/collab-core';

/** What the update's one item holds, or where it puts a string. */
export type ForeignKind = 'any' | 'json' | 'binary' | 'embed' | 'format' | 'type' | 'key' | 'other-root';

/** One non-text item; `depth` nests Any and JSON values that many arrays deep. */
export interface ForeignSpec {
  readonly kind: ForeignKind;
  readonly depth: number;
}

// Yjs's content refs (AbstractContent.getRef) and lib0's writeAny type bytes.
const CONTENT = { json: 2, binary: 3, string: 4, embed: 5, format: 6, type: 7, any: 8 } as const;
const ANY_ARRAY = 117;
const ANY_NULL = 126;
const TYPE_MAP = 1;
const HAS_PARENT_SUB = 0x20;

/** Arbitrary non-text item, deep values likeliest (the crash of issue 12). */
export const foreignSpecArb: fc.Arbitrary<ForeignSpec> = fc.record({
  kind: fc.constantFrom<ForeignKind>('any', 'any', 'json', 'json', 'binary', 'embed', 'format', 'type', 'key', 'other-root'),
  depth: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(1_000, 12_000)),
});

/** The update: client `clientId` adds the item at clock 0 to a root type, by name. */
export function foreignUpdate(spec: ForeignSpec, clientId: number): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1); // clients with structs
  encoding.writeVarUint(e, 1); // structs of this client
  encoding.writeVarUint(e, clientId);
  encoding.writeVarUint(e, 0); // clock of the first struct
  const parent = spec.kind === 'other-root' ? 'notes' : TEXT_NAME;
  const parentSub = spec.kind === 'key' ? 'title' : null;
  const ref = spec.kind === 'key' || spec.kind === 'other-root' ? CONTENT.string : CONTENT[spec.kind];
  // No origin and no right origin, so the parent follows: a root type named by a string.
  encoding.writeUint8(e, ref | (parentSub === null ? 0 : HAS_PARENT_SUB));
  encoding.writeVarUint(e, 1);
  encoding.writeVarString(e, parent);
  if (parentSub !== null) encoding.writeVarString(e, parentSub);
  switch (spec.kind) {
    case 'any':
      encoding.writeVarUint(e, 1); // one value
      for (let i = 0; i < spec.depth; i++) {
        encoding.writeUint8(e, ANY_ARRAY);
        encoding.writeVarUint(e, 1);
      }
      encoding.writeUint8(e, ANY_NULL);
      break;
    case 'json':
      encoding.writeVarUint(e, 1);
      encoding.writeVarString(e, `${'['.repeat(spec.depth)}${']'.repeat(spec.depth)}`);
      break;
    case 'binary':
      encoding.writeVarUint8Array(e, Uint8Array.of(1, 2, 3));
      break;
    case 'embed':
      encoding.writeVarString(e, JSON.stringify({ image: 'cat.png' }));
      break;
    case 'format':
      encoding.writeVarString(e, 'bold');
      encoding.writeVarString(e, 'true');
      break;
    case 'type':
      encoding.writeVarUint(e, TYPE_MAP);
      break;
    case 'key':
    case 'other-root':
      encoding.writeVarString(e, 'not the text');
      break;
  }
  encoding.writeVarUint(e, 0); // delete set: no clients
  return encoding.toUint8Array(e);
}
