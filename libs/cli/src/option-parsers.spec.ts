import { InvalidArgumentError } from 'commander';
import { integerIn, onOff, port, secondsIn } from './option-parsers';

describe('integerIn', () => {
  it('accepts whole numbers within the limits', () => {
    expect(integerIn(1, 10)('7')).toBe(7);
    expect(integerIn(1, 10)(' 10 ')).toBe(10);
  });

  it('rejects fractions, words and numbers out of range with the limits in the message', () => {
    for (const bad of ['0', '11', '1.5', 'ten', '', '1e3']) {
      expect(() => integerIn(1, 10)(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => integerIn(1, 10)('11')).toThrow('must be a whole number from 1 to 10.');
  });
});

describe('port', () => {
  it('takes 0 to 65535', () => {
    expect(port('0')).toBe(0);
    expect(port('65535')).toBe(65535);
    expect(() => port('65536')).toThrow(InvalidArgumentError);
  });
});

describe('secondsIn', () => {
  it('accepts fractions and a trailing s', () => {
    expect(secondsIn(0, 60)('0.25')).toBe(0.25);
    expect(secondsIn(0, 60)('3s')).toBe(3);
  });

  it('rejects negative and non-numeric values', () => {
    expect(() => secondsIn(0, 60)('-1')).toThrow('must be a number of seconds from 0 to 60.');
    expect(() => secondsIn(0, 60)('soon')).toThrow(InvalidArgumentError);
  });
});

describe('onOff', () => {
  it('reads on and off in the usual spellings, any case', () => {
    for (const on of ['on', 'ON', 'true', 'yes', '1', ' on ']) expect(onOff(on)).toBe(true);
    for (const off of ['off', 'False', 'no', '0']) expect(onOff(off)).toBe(false);
  });

  it('rejects anything else with a sentence', () => {
    expect(() => onOff('maybe')).toThrow('must be on or off (true/false, yes/no, 1/0 also do).');
    expect(() => onOff('')).toThrow(InvalidArgumentError);
  });
});
