/*  nozap - an LD_PRELOAD stand-in for CZMQ's zauth actor that answers its
 *  commands but never serves ZAP, for the test of the node's start-up
 *  self-check. Under it a CURVE server has no ZAP handler, which libzmq
 *  4.3.4 treats as "let every client in": exactly the broken set-up the
 *  self-check must catch (the node must refuse to run).
 *  SPDX-License-Identifier: MIT
 */
#include <czmq.h>

/* Same signature as zauth: the node starts it with zactor_new(zauth, ..);
 * the preloaded symbol wins over libczmq's. */
void
zauth(zsock_t *pipe, void *unused)
{
    (void) unused;
    zsock_signal(pipe, 0);
    while (true) {
        zmsg_t *command = zmsg_recv(pipe);
        char *name = command ? zmsg_popstr(command) : NULL;
        bool stop = !name || streq(name, "$TERM");
        zstr_free(&name);
        zmsg_destroy(&command);
        if (stop) {
            break;
        }
        zsock_signal(pipe, 0); /* every other command: "done", as zauth */
    }
}
