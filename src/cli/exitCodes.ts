/** How every command's --help ends: its exit codes (see errors.ts). */
export const COMPUTE_EXIT_CODES = `
Exit codes: 0 done or up to date; 1 failure (bad input, unwritable output, an
output that is an input or not panic-drift's, a reference problem under
--strict); 2 command line that cannot be parsed; 3 another run is writing the
same output (and --wait ran out); 130/143 interrupted by SIGINT/SIGTERM
(nothing half-written is left).`;

export const EXIT_CODES = `
Exit codes: 0 done; 1 failure (bad input, unwritable output, an output that is
an input or not panic-drift's); 2 command line that cannot be parsed; 130/143
interrupted by SIGINT/SIGTERM (nothing half-written is left).`;
