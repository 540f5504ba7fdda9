{
  "targets": [
    {
      "target_name": "aa_spawn",
      "sources": ["spawn.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
