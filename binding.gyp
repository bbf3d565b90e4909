# The SQLite extension behind src/sources/sqlite/rowPacking.ts, built at
# install by native/build.mjs (node-gyp rebuild, unless already built from
# these sources). It is a SQLite
# loadable extension, not a Node addon: it uses no Node API, only SQLite's
# extension header, taken from better-sqlite3's own copy of SQLite so that
# both are the same version.
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
