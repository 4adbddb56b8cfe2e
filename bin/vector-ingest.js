#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (npm install / npm ci builds it through the "prepare" script).
require('../dist/src/cli.js').main();
