// Jest reporter that records one project's totals in COLLAB_TEST_SUMMARY_DIR, so that
// tools/run-tests.mjs can print one "N passed, N failed" line over every project, and, just above it, which
// tests failed and how (CI shows only the end of a long log: the failure must be there, not 5,000 lines up).
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.COLLAB_TEST_SUMMARY_DIR;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    const name = path.relative(path.join(__dirname, '..'), this.rootDir).replace(/[\\/]/g, '-') || 'root';
    const summary = {
      project: name,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      failures: failuresOf(results, path.join(__dirname, '..')),
    };
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(summary));
  }
}

// The first lines of each failure's message, without colours or the stack below it.
function firstLines(message, count = 6) {
  const plain = String(message).replace(/\x1b\[[0-9;]*m/g, '');
  const lines = plain.split('\n');
  const stackAt = lines.findIndex((line) => /^\s+at /.test(line));
  return (stackAt > 0 ? lines.slice(0, stackAt) : lines)
    .filter((line) => line.trim() !== '')
    .slice(0, count)
    .join('\n');
}

function failuresOf(results, repoRoot) {
  const failures = [];
  for (const file of results.testResults) {
    const where = path.relative(repoRoot, file.testFilePath);
    if (file.testExecError) failures.push({ test: `${where} (the file did not run)`, message: firstLines(file.testExecError.message) });
    for (const test of file.testResults) {
      if (test.status !== 'failed') continue;
      failures.push({ test: `${where} > ${test.fullName}`, message: firstLines(test.failureMessages.join('\n')) });
    }
  }
  return failures;
}

module.exports = SummaryReporter;
