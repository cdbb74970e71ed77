/*
 * Built only with the flags `pkg-config --cflags --libs ferrovec` gives: proves the installed
 * .pc file points at a usable header and library.
 */
#include <stdio.h>
#include <string.h>

#include "ferrovec.h"

int main(void) {
    const float a[3] = {1.0f, 2.0f, 3.0f};
    const float b[3] = {4.0f, 5.0f, 6.0f};
    float d = fv_dot_f32(a, b, 3);
    if (d != 32.0f) {
        fprintf(stderr, "fv_dot_f32 gave %f, expected 32\n", (double)d);
        return 1;
    }
    if (strcmp(fv_version(), FERROVEC_PC_VERSION) != 0) {
        fprintf(stderr, "library version %s but ferrovec.pc says %s\n", fv_version(),
                FERROVEC_PC_VERSION);
        return 1;
    }
    printf("pkg-config build ok: ferrovec %s on %s\n", fv_version(), fv_isa_name());
    return 0;
}
