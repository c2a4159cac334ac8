// Loaded with --import: reports the process's peak resident memory on exit, for bench:audit.
process.on('exit', () => {
  process.stderr.write(`\nmaxrss-kib ${process.resourceUsage().maxRSS}\n`);
});
