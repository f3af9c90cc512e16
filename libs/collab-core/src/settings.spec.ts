import { DEFAULT_CORE_SETTINGS, InvalidSettingError, resolveCoreSettings } from './index';

describe('resolveCoreSettings', () => {
  it('fills in the defaults', () => {
    expect(resolveCoreSettings()).toEqual(DEFAULT_CORE_SETTINGS);
  });

  // `collab-server --max-frame 2048` refused to start: "maxHelloBytes (4096) must not be larger
  // than maxFrameBytes (2048)", a setting it has no flag for.
  it('lowers the default maxHelloBytes to a maxFrameBytes below it', () => {
    expect(resolveCoreSettings({ maxFrameBytes: 2048 })).toMatchObject({ maxFrameBytes: 2048, maxHelloBytes: 2048 });
    expect(resolveCoreSettings({ maxFrameBytes: 8192 }).maxHelloBytes).toBe(DEFAULT_CORE_SETTINGS.maxHelloBytes);
  });

  it('refuses a maxHelloBytes given larger than maxFrameBytes', () => {
    expect(() => resolveCoreSettings({ maxFrameBytes: 2048, maxHelloBytes: 4096 })).toThrow(InvalidSettingError);
  });
});
