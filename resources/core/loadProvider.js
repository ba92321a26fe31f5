/**
 * keywire 0.1 states name this path as their loader (`loader: "resources/core/loadProvider.js"`,
 * relative to the program's directory): it forwards to the loader's home, providerLoading/.
 */
"use strict";
module.exports = require("./providerLoading/loadProvider.js");
