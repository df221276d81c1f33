/* The smallest program to fork+exec, for the sandbox cold-start comparison:
 * what starting a fresh worker binary per cold start would cost at least. */
int main(void) { return 0; }
