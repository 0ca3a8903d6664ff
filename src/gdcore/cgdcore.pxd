# gdcore's public C++ API for Cython: the declarations of the installed
# headers <gdcore/*.hpp> (namespace gd), one block per header, in the order of
# the umbrella header gdcore/gdcore.hpp.  The comments here are short; the
# headers (gdcore.get_include()) hold each function's full contract.
#
#     from gdcore.cgdcore cimport AdamOptions, ParamSlot, adam_step
#
# Every function can be called without the GIL.  Those marked `except +`
# validate their arguments before writing anything and throw
# std::invalid_argument, which Cython raises as ValueError (std::bad_alloc as
# MemoryError).  Build with gdcore.get_extension_kwargs(): C++17, the static
# library libgdcore and OpenMP.  An extension module built so holds its own
# copy of the library, with its own ISA choice and thread count: set them
# with set_isa / set_num_threads below (gdcore.set_isa changes only the
# Python package's copy; the environment variable GDCORE_ISA applies to
# both).

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libcpp cimport bool as cpp_bool
from libcpp.string cimport string
from libcpp.vector cimport vector


# ---- gdcore/runtime.hpp: build information, instruction sets, threads -------
cdef extern from "gdcore/runtime.hpp" namespace "gd" nogil:
    const char* version() noexcept
    const char* compiler() noexcept
    # ISA paths: "scalar", "avx2", "avx512" on x86-64; "neon" on AArch64
    vector[string] isa_compiled() except +
    vector[string] isa_supported() except +
    string isa_active() except +
    # "auto" or one of isa_supported()
    void set_isa(const string& name) except +
    cpp_bool has_openmp() noexcept
    const int kMaxThreads
    int get_num_threads() noexcept
    # 1 <= n <= kMaxThreads
    void set_num_threads(int n) except +


# ---- gdcore/optim.hpp: fused optimizer updates -------------------------------
cdef extern from "gdcore/optim.hpp" namespace "gd" nogil:
    # One tensor of a parameter group: param and grad hold `size` contiguous
    # elements, state[k] the optimizer's buffers of the same size (null when
    # unused), `step` counts the updates (incremented by each call), `scalar`
    # is NAdam's mu_product (starts at 1), `initialized` SGD's momentum flag.
    # Default-constructed: null pointers, zero counts, scalar 1.
    cdef cppclass ParamSlot[T]:
        T* param
        const T* grad
        T* state[3]
        int64_t size
        int64_t step
        double scalar
        uint8_t initialized

    # Options: default-constructed with torch.optim's defaults.
    # state[0]: momentum_buffer (momentum != 0)
    cdef cppclass SGDOptions:
        double lr, momentum, dampening, weight_decay
        cpp_bool nesterov, maximize

    # state[0]: exp_avg, state[1]: exp_avg_sq, state[2]: max_exp_avg_sq (amsgrad)
    cdef cppclass AdamOptions:
        double lr, beta1, beta2, eps, weight_decay
        cpp_bool amsgrad, maximize, decoupled_weight_decay

    # state[0]: square_avg, state[1]: momentum_buffer, state[2]: grad_avg
    cdef cppclass RMSpropOptions:
        double lr, alpha, eps, weight_decay, momentum
        cpp_bool centered, maximize

    # state[0]: sum
    cdef cppclass AdagradOptions:
        double lr, lr_decay, weight_decay, eps
        cpp_bool maximize

    # state[0]: square_avg, state[1]: acc_delta
    cdef cppclass AdadeltaOptions:
        double lr, rho, eps, weight_decay
        cpp_bool maximize

    # state[0]: exp_avg, state[1]: exp_inf
    cdef cppclass AdamaxOptions:
        double lr, beta1, beta2, eps, weight_decay
        cpp_bool maximize

    # state[0]: exp_avg, state[1]: exp_avg_sq; ParamSlot.scalar: mu_product
    cdef cppclass NAdamOptions:
        double lr, beta1, beta2, eps, weight_decay, momentum_decay
        cpp_bool decoupled_weight_decay, maximize

    # state[0]: exp_avg, state[1]: exp_avg_sq
    cdef cppclass RAdamOptions:
        double lr, beta1, beta2, eps, weight_decay
        cpp_bool decoupled_weight_decay, maximize

    # state[0]: exp_avg
    cdef cppclass LionOptions:
        double lr, beta1, beta2, weight_decay
        cpp_bool maximize

    # One call updates `count` tensors; a bad option or a missing buffer
    # raises before any tensor is written.
    void sgd_step(const SGDOptions& options, ParamSlot[float]* tensors, size_t count) except +
    void sgd_step(const SGDOptions& options, ParamSlot[double]* tensors, size_t count) except +
    void adam_step(const AdamOptions& options, ParamSlot[float]* tensors, size_t count) except +
    void adam_step(const AdamOptions& options, ParamSlot[double]* tensors, size_t count) except +
    void rmsprop_step(const RMSpropOptions& options, ParamSlot[float]* tensors,
                      size_t count) except +
    void rmsprop_step(const RMSpropOptions& options, ParamSlot[double]* tensors,
                      size_t count) except +
    void adagrad_step(const AdagradOptions& options, ParamSlot[float]* tensors,
                      size_t count) except +
    void adagrad_step(const AdagradOptions& options, ParamSlot[double]* tensors,
                      size_t count) except +
    void adadelta_step(const AdadeltaOptions& options, ParamSlot[float]* tensors,
                       size_t count) except +
    void adadelta_step(const AdadeltaOptions& options, ParamSlot[double]* tensors,
                       size_t count) except +
    void adamax_step(const AdamaxOptions& options, ParamSlot[float]* tensors,
                     size_t count) except +
    void adamax_step(const AdamaxOptions& options, ParamSlot[double]* tensors,
                     size_t count) except +
    void nadam_step(const NAdamOptions& options, ParamSlot[float]* tensors, size_t count) except +
    void nadam_step(const NAdamOptions& options, ParamSlot[double]* tensors, size_t count) except +
    void radam_step(const RAdamOptions& options, ParamSlot[float]* tensors, size_t count) except +
    void radam_step(const RAdamOptions& options, ParamSlot[double]* tensors, size_t count) except +
    void lion_step(const LionOptions& options, ParamSlot[float]* tensors, size_t count) except +
    void lion_step(const LionOptions& options, ParamSlot[double]* tensors, size_t count) except +

    # The options' checks alone.
    void validate(const SGDOptions& options) except +
    void validate(const AdamOptions& options) except +
    void validate(const RMSpropOptions& options) except +
    void validate(const AdagradOptions& options) except +
    void validate(const AdadeltaOptions& options) except +
    void validate(const AdamaxOptions& options) except +
    void validate(const NAdamOptions& options) except +
    void validate(const RAdamOptions& options) except +
    void validate(const LionOptions& options) except +


# ---- gdcore/clip.hpp: norms and clipping ---------------------------------------
cdef extern from "gdcore/clip.hpp" namespace "gd" nogil:
    const int64_t kNormBlock

    cdef cppclass Span[T]:
        T* data
        int64_t size

    # ord = 1, 2 or +inf; bitwise the same on every ISA path and thread count
    double total_norm(const Span[const float]* tensors, size_t count, double ord) except +
    double total_norm(const Span[const double]* tensors, size_t count, double ord) except +
    # x *= factor
    void scale(const Span[float]* tensors, size_t count, double factor) except +
    void scale(const Span[double]* tensors, size_t count, double factor) except +
    # x = min(max(x, -clip_value), clip_value)
    void clamp(const Span[float]* tensors, size_t count, double clip_value) except +
    void clamp(const Span[double]* tensors, size_t count, double clip_value) except +
    # a += alpha * b
    void axpy(float* a, const float* b, int64_t n, double alpha) except +
    void axpy(double* a, const double* b, int64_t n, double alpha) except +


# ---- gdcore/losses.hpp: the losses of the linear models --------------------------
cdef extern from "gdcore/losses.hpp" namespace "gd" nogil:
    # p: the prediction (decision value); classification losses take y in {-1, +1}
    enum class LossKind(int):
        squared_error                # ½(p − y)²
        huber                        # ½r² if |r| ≤ ε else ε|r| − ½ε², r = p − y
        epsilon_insensitive          # max(0, |y − p| − ε)
        squared_epsilon_insensitive  # max(0, |y − p| − ε)²
        log_loss                     # log(1 + exp(−y·p))
        hinge                        # max(0, t − y·p)
        squared_hinge                # max(0, t − y·p)²
        modified_huber               # (max(0, 1 − y·p))² if y·p ≥ −1 else −4·y·p

    # param: ε (Huber, ε-insensitive) or the threshold t (hinge losses)
    cdef cppclass Loss:
        LossKind kind
        double param

    void loss_value(const Loss& loss, const float* y, const float* p, float* out,
                    int64_t n) except +
    void loss_value(const Loss& loss, const double* y, const double* p, double* out,
                    int64_t n) except +
    void loss_derivative(const Loss& loss, const float* y, const float* p, float* out,
                         int64_t n) except +
    void loss_derivative(const Loss& loss, const double* y, const double* p, double* out,
                         int64_t n) except +
    # softmax cross-entropy of n rows of k logits; grad (n × k) may be null
    void multinomial_loss(const int64_t* y, const double* p, int64_t n, int64_t k,
                          double* out, double* grad) except +
    void multinomial_loss(const int64_t* y, const float* p, int64_t n, int64_t k,
                          float* out, float* grad) except +


# ---- gdcore/linear.hpp: fused training loops of linear models ---------------------
cdef extern from "gdcore/linear.hpp" namespace "gd" nogil:
    enum class Penalty(int):
        none
        l2
        l1
        elasticnet

    enum class LearningRate(int):
        constant
        optimal
        invscaling

    # X: n × d row-major; sample_weight null (all ones) or n weights
    cdef cppclass DenseData[T]:
        const T* X
        const T* y
        const T* sample_weight
        int64_t n, d

    # CSR rows: row i is data[indptr[i] .. indptr[i+1]) at columns indices[..].
    # The index type I is int64_t or int32_t.  The header's default I =
    # int64_t is left out here: Cython would not know that CsrData[T] means
    # CsrData[T, int64_t], so always name I.
    cdef cppclass CsrData[T, I]:
        const T* data
        const I* indices
        const I* indptr
        const T* y
        const T* sample_weight
        int64_t n, d
        cpp_bool structure_checked

    # std::variant of the nine option types above; converts from each of them
    cdef cppclass OptimizerOptions:
        OptimizerOptions()
        OptimizerOptions(const SGDOptions&)
        OptimizerOptions(const AdamOptions&)
        OptimizerOptions(const RMSpropOptions&)
        OptimizerOptions(const AdagradOptions&)
        OptimizerOptions(const AdadeltaOptions&)
        OptimizerOptions(const AdamaxOptions&)
        OptimizerOptions(const NAdamOptions&)
        OptimizerOptions(const RAdamOptions&)
        OptimizerOptions(const LionOptions&)
        size_t index() const

    cdef cppclass MinibatchOptions:
        Loss loss
        Penalty penalty
        double alpha
        double l1_ratio
        cpp_bool fit_intercept
        int64_t batch_size

    # coef: d weights (k·d for multinomial_epoch), intercept: 1 (k) values,
    # with their optimizer state; l1_q / l1_u: the cumulative L1 penalty's state
    cdef cppclass LinearModel[T]:
        ParamSlot[T] coef
        ParamSlot[T] intercept
        T* l1_q
        double* l1_u

    # One pass over rows order[0 .. count) in mini-batches, batch k with
    # learning rate lr[k]; returns Σ sample_weight·loss (NaN if a margin was
    # not finite).
    double minibatch_epoch(const DenseData[float]& data, const int64_t* order, int64_t count,
                           const MinibatchOptions& options, const OptimizerOptions& optimizer,
                           const double* lr, LinearModel[float]& model) except +
    double minibatch_epoch(const DenseData[double]& data, const int64_t* order, int64_t count,
                           const MinibatchOptions& options, const OptimizerOptions& optimizer,
                           const double* lr, LinearModel[double]& model) except +

    # What minibatch_passes reports after each pass.
    cdef cppclass PassSummary:
        double loss
        double sq_norm
        cpp_bool finite

    # count / pass_rows passes of minibatch_epoch over dense rows in one call,
    # pass p with lr[p·nb .. (p+1)·nb); out[p] written after pass p.
    void minibatch_passes(const DenseData[float]& data, const int64_t* order, int64_t count,
                          int64_t pass_rows, const MinibatchOptions& options,
                          const OptimizerOptions& optimizer, const double* lr,
                          LinearModel[float]& model, PassSummary* out) except +
    void minibatch_passes(const DenseData[double]& data, const int64_t* order, int64_t count,
                          int64_t pass_rows, const MinibatchOptions& options,
                          const OptimizerOptions& optimizer, const double* lr,
                          LinearModel[double]& model, PassSummary* out) except +
    double minibatch_epoch(const CsrData[float, int64_t]& data, const int64_t* order,
                           int64_t count, const MinibatchOptions& options,
                           const OptimizerOptions& optimizer, const double* lr,
                           LinearModel[float]& model) except +
    double minibatch_epoch(const CsrData[double, int64_t]& data, const int64_t* order,
                           int64_t count, const MinibatchOptions& options,
                           const OptimizerOptions& optimizer, const double* lr,
                           LinearModel[double]& model) except +
    double minibatch_epoch(const CsrData[float, int32_t]& data, const int64_t* order,
                           int64_t count, const MinibatchOptions& options,
                           const OptimizerOptions& optimizer, const double* lr,
                           LinearModel[float]& model) except +
    double minibatch_epoch(const CsrData[double, int32_t]& data, const int64_t* order,
                           int64_t count, const MinibatchOptions& options,
                           const OptimizerOptions& optimizer, const double* lr,
                           LinearModel[double]& model) except +

    # Whether minibatch_epoch on CSR rows takes the O(nnz) lazy update.
    cpp_bool sparse_step_is_lazy(const OptimizerOptions& optimizer, Penalty penalty)

    # Softmax regression over n_classes classes (y: class indices as T).
    double multinomial_epoch(const DenseData[float]& data, int64_t n_classes,
                             const int64_t* order, int64_t count,
                             const MinibatchOptions& options, const OptimizerOptions& optimizer,
                             const double* lr, LinearModel[float]& model) except +
    double multinomial_epoch(const DenseData[double]& data, int64_t n_classes,
                             const int64_t* order, int64_t count,
                             const MinibatchOptions& options, const OptimizerOptions& optimizer,
                             const double* lr, LinearModel[double]& model) except +
    double multinomial_epoch(const CsrData[float, int64_t]& data, int64_t n_classes,
                             const int64_t* order, int64_t count,
                             const MinibatchOptions& options, const OptimizerOptions& optimizer,
                             const double* lr, LinearModel[float]& model) except +
    double multinomial_epoch(const CsrData[double, int64_t]& data, int64_t n_classes,
                             const int64_t* order, int64_t count,
                             const MinibatchOptions& options, const OptimizerOptions& optimizer,
                             const double* lr, LinearModel[double]& model) except +
    double multinomial_epoch(const CsrData[float, int32_t]& data, int64_t n_classes,
                             const int64_t* order, int64_t count,
                             const MinibatchOptions& options, const OptimizerOptions& optimizer,
                             const double* lr, LinearModel[float]& model) except +
    double multinomial_epoch(const CsrData[double, int32_t]& data, int64_t n_classes,
                             const int64_t* order, int64_t count,
                             const MinibatchOptions& options, const OptimizerOptions& optimizer,
                             const double* lr, LinearModel[double]& model) except +

    # scikit-learn's per-sample SGD (_plain_sgd), one pass per call
    cdef cppclass PlainSGDOptions:
        Loss loss
        Penalty penalty
        double alpha, l1_ratio
        LearningRate learning_rate
        double eta0, power_t
        double optimal_init
        cpp_bool fit_intercept
        double intercept_decay
        int64_t average
        cpp_bool objective
        int64_t block
        cpp_bool targets_in_order

    cdef cppclass PlainSGDState[T]:
        T* w
        T* aw
        T* q
        double intercept, average_intercept
        double wscale, average_a, average_b
        double u
        double t
        double sq_norm, l1_norm
        double objective

    double plain_sgd_epoch(const DenseData[float]& data, const int64_t* order, int64_t count,
                           const PlainSGDOptions& options, PlainSGDState[float]& state) except +
    double plain_sgd_epoch(const DenseData[double]& data, const int64_t* order, int64_t count,
                           const PlainSGDOptions& options, PlainSGDState[double]& state) except +
    double plain_sgd_epoch(const CsrData[float, int64_t]& data, const int64_t* order,
                           int64_t count, const PlainSGDOptions& options,
                           PlainSGDState[float]& state) except +
    double plain_sgd_epoch(const CsrData[double, int64_t]& data, const int64_t* order,
                           int64_t count, const PlainSGDOptions& options,
                           PlainSGDState[double]& state) except +
    double plain_sgd_epoch(const CsrData[float, int32_t]& data, const int64_t* order,
                           int64_t count, const PlainSGDOptions& options,
                           PlainSGDState[float]& state) except +
    double plain_sgd_epoch(const CsrData[double, int32_t]& data, const int64_t* order,
                           int64_t count, const PlainSGDOptions& options,
                           PlainSGDState[double]& state) except +
    # fold wscale and the averaging representation into w and aw (d weights)
    void plain_sgd_finalize(PlainSGDState[float]& state, int64_t d)
    void plain_sgd_finalize(PlainSGDState[double]& state, int64_t d)

    # The per-sample loop's row kernels on the active ISA (fixed-order sums).
    float dot(const float* x, const float* w, int64_t n)
    double dot(const double* x, const double* w, int64_t n)
    float axpy_dot(float* w, const float* x, float a, const float* xn, int64_t n)
    double axpy_dot(double* w, const double* x, double a, const double* xn, int64_t n)

    # The row order of a pass in shuffled blocks (writes out[0 .. n)).
    void block_order(const int64_t* blocks, int64_t n_blocks, const int64_t* within,
                     int64_t within_size, int64_t size, int64_t n, int64_t* out) except +
    # Integer class labels in one pass: smallest, largest, y[0], how many
    # equal y[0], how many neighbours differ.
    cdef cppclass LabelSummary:
        int64_t lo
        int64_t hi
        int64_t first
        int64_t same_as_first
        int64_t changes

    LabelSummary label_summary(const int64_t* y, int64_t n) except +
    LabelSummary label_summary(const int32_t* y, int64_t n) except +
    # out[i] = +1 where y[i] == positive, -1 elsewhere
    void signed_targets(const int64_t* y, int64_t n, int64_t positive, float* out) except +
    void signed_targets(const int64_t* y, int64_t n, int64_t positive, double* out) except +
    void signed_targets(const int32_t* y, int64_t n, int64_t positive, float* out) except +
    void signed_targets(const int32_t* y, int64_t n, int64_t positive, double* out) except +
    # Positions [begin, end) of a forward Fisher-Yates shuffle of order[0 .. n)
    # (SplitMix64, its state advanced in place); order[0 .. end) is then final.
    void shuffle_order(int64_t* order, int64_t n, int64_t begin, int64_t end,
                       uint64_t& state) except +

    # out = X·w + b for every row, or for rows[0 .. count) only (CSR: rows
    # null for every row); out may not share memory with what is read.
    void decision_function(const DenseData[float]& data, const float* w, float b,
                           float* out) except +
    void decision_function(const DenseData[double]& data, const double* w, double b,
                           double* out) except +
    void decision_function(const DenseData[float]& data, const int64_t* rows, int64_t count,
                           const float* w, float b, float* out) except +
    void decision_function(const DenseData[double]& data, const int64_t* rows, int64_t count,
                           const double* w, double b, double* out) except +
    void decision_function(const CsrData[float, int32_t]& data, const int64_t* rows,
                           int64_t count, const float* w, float b, float* out) except +
    void decision_function(const CsrData[double, int32_t]& data, const int64_t* rows,
                           int64_t count, const double* w, double b, double* out) except +
    void decision_function(const CsrData[float, int64_t]& data, const int64_t* rows,
                           int64_t count, const float* w, float b, float* out) except +
    void decision_function(const CsrData[double, int64_t]& data, const int64_t* rows,
                           int64_t count, const double* w, double b, double* out) except +
