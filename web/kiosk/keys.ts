import type { Panel } from './panel.js';

/**
 * The 12-key tactile keypad (EN 301 549 5.1.6, 8.4.1) as a USB keypad or keyboard sends it:
 *
 *   0–9 (top row or numpad)   digits; 1/2 choose at the factor step; 0 changes language at start
 *   Enter / numpad Enter      confirm (continue, start, start again)
 *   Backspace / Delete        clear the last digit (Back)
 *   Escape                    cancel the session
 *   F1 / h / ?                Help: repeat the screen; held 2 s: speech on/off (no sight needed, 8.5)
 *   + / − (numpad)            volume
 *   F8                        headphones in/out — stands in for the headphone jack (issue 17)
 *
 * Any key first stops the speech (5.1.3.4); while the box warns of the time limit, any key asks for
 * more time (WCAG 2.2.1). Tab and Shift+Tab move between the on-screen buttons as usual: no trap.
 */
export function keyAction(panel: Panel, event: KeyboardEvent, phase: 'down' | 'up'): void {
  const key = event.key;
  const help = key === 'F1' || key === 'h' || key === 'H' || key === '?';
  if (phase === 'up') {
    if (help) panel.helpUp();
    return;
  }
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  if (key === 'Tab' || key === 'Shift') return;
  if (event.repeat) {
    if (help) event.preventDefault();
    return;
  }
  panel.speaker.stop();
  if (panel.canExtend() && !help) {
    event.preventDefault();
    panel.extend();
    return;
  }
  // Enter or Space on a focused button activate that button; the keypad must not act twice.
  const onButton = event.target instanceof HTMLElement && event.target.closest('button') !== null;
  if (/^[0-9]$/.test(key)) {
    event.preventDefault();
    return panel.digit(key);
  }
  switch (key) {
    case 'Enter':
      if (onButton) return;
      event.preventDefault();
      return panel.confirm();
    case 'Backspace':
    case 'Delete':
      event.preventDefault();
      return panel.back();
    case 'Escape':
      event.preventDefault();
      return panel.cancel();
    case '+':
      event.preventDefault();
      return panel.volume(+1);
    case '-':
      event.preventDefault();
      return panel.volume(-1);
    case 'F8':
      event.preventDefault();
      return panel.setPrivateAudio(!panel.state.privateAudio);
  }
  if (help) {
    event.preventDefault();
    panel.helpDown();
  }
}
