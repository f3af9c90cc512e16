// ^F's prompt on the status line: what the keys do to the query while it is open, and how it
// is drawn. Finding itself is text-search.ts; the editor moves the selection.
import type { EditorAction } from './key-bindings';
import { renderSpans, textWidth } from './screen-renderer';

/** What a key did to the prompt: find the next match, changed the query, closed it, or not for the prompt at all. */
export type PromptOutcome = 'next' | 'edited' | 'closed' | 'passed';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The open find prompt and the text typed into it. */
export class FindPrompt {
  constructor(public query: string) {}

  /**
   * Text edits the query (a paste's line breaks become spaces), Enter or ^F asks for the next
   * match, Esc closes the prompt. Any other key is 'passed': it closes the prompt and then
   * does what it always does.
   */
  handle(action: EditorAction): PromptOutcome {
    switch (action.kind) {
      case 'insert':
        if (action.text === '\n' && !action.paste) return 'next';
        this.query += action.text.replace(/\n/g, ' ');
        return 'edited';
      case 'find':
        return 'next';
      case 'backspace':
        this.query = [...graphemes.segment(this.query)]
          .slice(0, -1)
          .map((g) => g.segment)
          .join('');
        return 'edited';
      case 'escape':
        return 'closed';
      default:
        return 'passed';
    }
  }

  /** The prompt as a status line `columns` wide, with `message` (or how to use it) on the right, and where the cursor goes. */
  render(columns: number, message?: string): { line: string; cursorX: number } {
    const prompt = ` Find: ${this.query}`;
    const line = renderSpans([{ text: prompt }], columns, '7', [{ text: ` ${message ?? 'Enter: next · Esc: done'} `, sgr: '1' }]);
    return { line, cursorX: Math.min(textWidth(prompt), columns - 1) };
  }
}
