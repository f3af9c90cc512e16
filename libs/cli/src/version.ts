// Replaced at bundle time by tools/build-apps.mjs; absent when running from sources (tests).
declare const COLLAB_VERSION: string | undefined;

/** The product version printed by --version and sent in WELCOME. */
export const VERSION: string = typeof COLLAB_VERSION === 'string' ? COLLAB_VERSION : '0.0.0-dev';
