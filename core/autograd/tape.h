/* The per-module tape. Every op called on a context while gradients are
 * needed appends a node; backward walks the nodes in reverse. Gradients
 * live on the tensors themselves (grad / grad_valid), so a tensor shared by
 * two modules accumulates both contributions before its producer replays. */
#ifndef WB_CORE_TAPE_H
#define WB_CORE_TAPE_H

#include <workbench/host.h>
#include "../tensor/tensor.h"

typedef struct wb_context wb_context;
typedef struct wb_tape_node wb_tape_node;

/* Computes the gradients of node->in from the gradients of node->out, using
 * wb_grad_begin / wb_grad_end for each input that requires a gradient. */
typedef wb_status (*wb_tape_backward_fn)(wb_context *c, wb_tape_node *node);

/* Lets go of data the node holds but can recompute in its backward, where
 * nothing else holds it (see wb_tape_shed). */
typedef void (*wb_tape_shed_fn)(wb_context *c, wb_tape_node *node);

/* Which tensors' data a backward reads (the keep mask of wb_tape_record):
 * the tape holds those until the node has run, the others can be freed as
 * soon as their owners let go. Inputs from the 24th on are kept only with
 * WB_KEEP_ALL. */
#define WB_KEEP_IN(i) (1u << (i))
#define WB_KEEP_OUT(j) (1u << (24 + (j)))
#define WB_KEEP_NONE 0u
#define WB_KEEP_ALL 0xFFFFFFFFu

struct wb_tape_node {
    wb_tape_node *prev;
    const char *op;            /* "conv2d", ... for error messages */
    wb_tape_backward_fn backward;
    wb_tensor **in;
    int n_in;
    wb_tensor **out;
    int n_out;
    void *saved;               /* op-specific, allocated in the compute arena */
    unsigned keep;             /* WB_KEEP_* mask of the tensors whose data is held */
    wb_tensor **held;          /* more tensors whose data is held (wb_tape_hold) */
    int n_held;
    wb_tape_shed_fn shed;      /* NULL: holds what it holds until it has run */
};

/* Told during wb_tape_backward that a trainable parameter's gradient is
 * final for this backward: the replay has passed the first node (in forward
 * order) that reads it, so no later node adds to it. What PyTorch's DDP
 * hooks on to start a bucket's all-reduce while backward goes on. It assumes
 * each parameter is read by one module's tape (a module's own weights). */
typedef void (*wb_grad_final_fn)(void *user, wb_tensor *param);

typedef struct wb_tape {
    wb_tape_node *last;
    int count;
    wb_grad_final_fn on_final; /* NULL: nobody listens; wb_tape_clear keeps it */
    void *on_final_user;
} wb_tape;

/* True when an op with these inputs must be recorded (grad mode on and some
 * input requires a gradient). NULL inputs are skipped. */
bool wb_tape_needed(wb_context *c, wb_tensor *const *in, int n_in);

/* Appends a node; copies in/out pointer arrays into the arena, marks the
 * outputs requires_grad and holds the data named by `keep`. `saved_bytes`
 * of zeroed scratch are reserved in node->saved. Returns NULL (with the ctx
 * error set) when out of memory. */
wb_tape_node *wb_tape_record(wb_context *c, const char *op, wb_tape_backward_fn fn,
                             wb_tensor *const *in, int n_in, wb_tensor *const *out, int n_out,
                             size_t saved_bytes, unsigned keep);

/* Holds the data of n more tensors (no gradient flows to them) until the
 * node has run: what a custom op's backward reads besides its inputs and
 * outputs. false (with the ctx error set) when out of memory. */
bool wb_tape_hold(wb_context *c, wb_tape_node *node, wb_tensor *const *t, int n);

/* Asks each node with a shed function to let go of what it can recompute.
 * Run once the module's forward has returned and released what it made: a
 * tensor whose data only one node still holds is then known. */
void wb_tape_shed(wb_context *c);

/* A backward that reads t, a tensor whose memory may be gone but whose
 * source it holds (a ReLU output: relu_of), gives it data for its length
 * with revive and frees that data after with unrevive (which leaves a tensor
 * that had data alone). false (ctx error set) when out of memory. */
bool wb_tape_revive(wb_context *c, const char *op, wb_tensor *t);
void wb_tape_unrevive(wb_context *c, wb_tensor *t);
/* Whether t has no data now (its storage was freed) and so needs reviving. */
bool wb_tape_data_gone(const wb_tensor *t);

/* Replays the tape of c in reverse. Output gradients are whatever the output
 * tensors hold; nodes none of whose outputs has a gradient are skipped. Once
 * a node is done its outputs' gradients and its hold on data are freed. */
wb_status wb_tape_backward(wb_context *c);
void wb_tape_clear(wb_context *c);
/* Forgets the tape without running it: every node's hold on data is
 * dropped (train.recompute keeps a module's inputs and outputs only, and
 * records the tape again before its backward). */
void wb_tape_discard(wb_context *c);

/* Where to write the gradient of t: t->grad itself when nothing was written
 * yet this iteration, else a temporary that wb_grad_end adds into t->grad. */
float *wb_grad_begin(wb_context *c, wb_tensor *t);
void wb_grad_end(wb_context *c, wb_tensor *t, float *buf);
/* The gradient of an output as a readable buffer (zeros when never written). */
const float *wb_grad_of(wb_context *c, wb_tensor *t);

#endif
