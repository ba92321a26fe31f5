/**
 * States written before the shared core moved to resources/core/ name this path as their
 * loader: it forwards to the loader's home, resources/core/providerLoading/.
 */
"use strict";
module.exports = require("../core/providerLoading/loadProvider.js");
