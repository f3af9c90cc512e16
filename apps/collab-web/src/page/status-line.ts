// The status line: connection (connecting, connected, reconnecting, or why the server closed it
// for good), whether every edit is stored on the server ("saved"), and who is here, each name in
// its colour.

import type { AckingProvider } from '../acking-provider';
import { peopleOf } from '../presence';

type Connection = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Keeps one element showing the page's state. */
export class StatusLine {
  private connection: Connection = 'connecting';
  /** Why the server closed the connection, when it said so. */
  private reason = '';
  private everConnected = false;

  constructor(
    private readonly element: HTMLElement,
    private readonly acking: AckingProvider,
    private readonly clientId: number,
  ) {
    const { provider, tracker } = acking;
    provider.on('status', ({ status }) => {
      if (status === 'connected') {
        this.everConnected = true;
        this.reason = '';
        this.connection = 'connected';
      } else {
        this.connection = this.everConnected ? 'reconnecting' : 'connecting';
      }
      this.render();
    });
    provider.on('sync', () => this.render());
    provider.on('connection-close', (event) => {
      if (event?.reason) this.reason = event.reason;
      this.render();
    });
    provider.on('closed', ({ reason, code }) => {
      this.connection = 'closed';
      this.reason = reason || `close code ${code}`;
      this.render();
    });
    tracker.onChange(() => this.render());
    provider.awareness.on('change', () => this.render());
  }

  /** Draws the line afresh. */
  render(): void {
    const { provider, tracker } = this.acking;
    const parts: HTMLElement[] = [];
    const part = (text: string, className: string) => {
      const span = document.createElement('span');
      span.className = className;
      span.textContent = text;
      parts.push(span);
      return span;
    };
    const synced = this.connection === 'connected' && provider.synced;
    if (this.connection === 'closed') part(`disconnected: ${this.reason}`, 'state closed');
    else if (this.connection === 'connected') part(synced ? 'connected' : 'connecting…', synced ? 'state connected' : 'state connecting');
    else part(`${this.connection}…${this.reason ? ` (${this.reason})` : ''}`, 'state reconnecting');
    if (tracker.saved) part('saved', 'saved');
    else part(synced ? 'saving…' : `${tracker.unsaved} unsaved ${tracker.unsaved === 1 ? 'edit' : 'edits'}`, 'unsaved');
    const people = peopleOf(provider.awareness.getStates() as Map<number, Record<string, unknown>>, this.clientId);
    const here = part('', 'people');
    here.append(`${people.length} here: `);
    people.forEach((person, i) => {
      const span = document.createElement('span');
      span.className = 'person';
      span.style.color = person.color;
      span.textContent = person.self ? `${person.name} (you)` : person.name;
      here.append(span);
      if (i < people.length - 1) here.append(', ');
    });
    this.element.replaceChildren(...parts.flatMap((p, i) => (i ? [document.createTextNode(' · '), p] : [p])));
  }
}
