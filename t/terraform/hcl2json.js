// Prints {"<file>": <its HCL as JSON>, ...} for the .tf files named on the command line,
// parsed by @cdktf/hcl2json (HCL's own parser, compiled to WebAssembly): a syntax error fails.
'use strict';
const fs = require('fs');
const { parse } = require('@cdktf/hcl2json');

(async () => {
  const out = {};
  for (const f of process.argv.slice(2)) {
    out[f] = await parse(f, fs.readFileSync(f, 'utf8'));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(`hcl2json: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
