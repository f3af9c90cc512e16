import { SaveTracker } from '../src/save-tracker';

describe('SaveTracker', () => {
  it('is saved once the message carrying the last local edit is acknowledged', () => {
    const tracker = new SaveTracker();
    tracker.newConnection();
    expect(tracker.saved).toBe(true);
    tracker.localEdit();
    tracker.changeSent(); // 1: edit 1
    tracker.localEdit();
    tracker.changeSent(); // 2: edit 2
    expect(tracker.unsaved).toBe(2);
    tracker.acknowledged(1);
    expect(tracker.unsaved).toBe(1);
    tracker.acknowledged(2);
    expect(tracker.saved).toBe(true);
  });

  it('counts messages per connection: after a reconnect the step 2 carries every edit made offline', () => {
    const tracker = new SaveTracker();
    tracker.newConnection();
    tracker.localEdit();
    tracker.changeSent();
    // The connection drops before ACK 1; three edits offline.
    tracker.newConnection();
    tracker.localEdit();
    tracker.localEdit();
    tracker.localEdit();
    expect(tracker.unsaved).toBe(4);
    tracker.changeSent(); // the step 2 of the new connection
    tracker.acknowledged(1);
    expect(tracker.saved).toBe(true);
  });

  it('ignores an ACK for more messages than were sent, or an old one, and tells listeners of changes', () => {
    const tracker = new SaveTracker();
    const seen: boolean[] = [];
    tracker.onChange(() => seen.push(tracker.saved));
    tracker.newConnection();
    tracker.localEdit();
    tracker.changeSent();
    tracker.acknowledged(5);
    expect(tracker.saved).toBe(true);
    tracker.acknowledged(1);
    expect(seen).toEqual([false, true]);
  });
});
