package client

// NodeModules lets the external tests wait for client/node_modules.
var NodeModules = nodeModules
