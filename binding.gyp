# The C library behind src/sources/sqlite/nativeLibrary.ts, built at install
# by native/build.mjs (node-gyp rebuild, unless already built from these
# sources). One file, loaded twice: as a SQLite loadable extension (packed
# rows, converted columns, the read-ahead VFS), compiled against SQLite's
# extension header from better-sqlite3's own copy of SQLite so that both are
# the same version; and as a Node addon (Node-API only: one function that
# binds a thread's output buffer). Only the two entry points are exported.
{
  'targets': [
    {
      'target_name': 'panic_drift_sqlite',
      'type': 'loadable_module',
      'sources': ['native/panic_drift_sqlite.c', 'native/readahead_vfs.c', 'native/packed_output.c', 'native/column_kinds.c'],
      'include_dirs': ["<!(node -p \"require('path').join(require('path').dirname(require.resolve('better-sqlite3/package.json')), 'deps', 'sqlite3')\")"],
      'cflags': ['-O2', '-Wall', '-Wextra', '-fvisibility=hidden'],
      'xcode_settings': { 'OTHER_CFLAGS': ['-O2', '-fvisibility=hidden'] },
    },
  ],
}
