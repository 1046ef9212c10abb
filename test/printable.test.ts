import { describe, expect, it } from 'vitest';
import { printable } from '../src/printable.js';

describe('printable: what a device says, safe for a terminal', () => {
  it.each([
    ['Front Door', 'Front Door'],
    ['\u001b[31mred\u001b[0m', 'red'],
    ['title\u001b]0;owned\u0007 after', 'title after'],
    ['osc-st\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\', 'osc-stlink'],
    ['reset\u001bc now', 'reset now'],
    ['c1\u009b2Jcsi', 'c1csi'],
    ['bell\u0007 del\u007f nul\u0000', 'bell del nul'],
    ['line\nbreak\ttab', 'line break tab'],
    ['bidi \u202egnp.exe', 'bidi gnp.exe'],
    ['Café 東京 ✓', 'Café 東京 ✓'],
  ])('%j → %j', (text, shown) => {
    expect(printable(text)).toBe(shown);
  });

  it('keeps undefined', () => {
    expect(printable(undefined)).toBeUndefined();
  });
});
