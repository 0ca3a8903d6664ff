# cython: language_level=3
# distutils: language = c++
# Uses every declaration of gdcore/cgdcore.pxd -- each field of each struct,
# each overload of each function -- so that compiling the generated C++
# against the installed headers proves the .pxd matches them (Cython itself
# trusts a cdef extern block).  Compiled, never run: tests/test_cython.py.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libcpp.string cimport string
from libcpp.vector cimport vector

from gdcore cimport cgdcore as gd


cdef int runtime_api() except -1 nogil:
    cdef const char* s = gd.version()
    s = gd.compiler()
    cdef vector[string] names = gd.isa_compiled()
    names = gd.isa_supported()
    cdef string active = gd.isa_active()
    gd.set_isa(active)
    cdef bint b = gd.has_openmp()
    cdef int n = gd.kMaxThreads
    n = gd.get_num_threads()
    gd.set_num_threads(n)
    return b


cdef void slot_fields(gd.ParamSlot[float]& s, float* p) noexcept nogil:
    s.param = p
    s.grad = p
    s.state[0] = p
    s.state[1] = p
    s.state[2] = p
    s.size = 1
    s.step = 0
    s.scalar = 1.0
    s.initialized = <uint8_t>0


cdef int optim_api(float* pf, double* pd) except -1 nogil:
    cdef gd.ParamSlot[float] sf
    cdef gd.ParamSlot[double] sd
    slot_fields(sf, pf)
    sd.param = pd
    cdef gd.SGDOptions sgd
    sgd.lr = sgd.momentum = sgd.dampening = sgd.weight_decay = 0.0
    sgd.nesterov = sgd.maximize = False
    cdef gd.AdamOptions adam
    adam.lr = adam.beta1 = adam.beta2 = adam.eps = adam.weight_decay = 0.0
    adam.amsgrad = adam.maximize = adam.decoupled_weight_decay = False
    cdef gd.RMSpropOptions rms
    rms.lr = rms.alpha = rms.eps = rms.weight_decay = rms.momentum = 0.0
    rms.centered = rms.maximize = False
    cdef gd.AdagradOptions adagrad
    adagrad.lr = adagrad.lr_decay = adagrad.weight_decay = adagrad.eps = 0.0
    adagrad.maximize = False
    cdef gd.AdadeltaOptions adadelta
    adadelta.lr = adadelta.rho = adadelta.eps = adadelta.weight_decay = 0.0
    adadelta.maximize = False
    cdef gd.AdamaxOptions adamax
    adamax.lr = adamax.beta1 = adamax.beta2 = adamax.eps = adamax.weight_decay = 0.0
    adamax.maximize = False
    cdef gd.NAdamOptions nadam
    nadam.lr = nadam.beta1 = nadam.beta2 = nadam.eps = nadam.weight_decay = 0.0
    nadam.momentum_decay = 0.0
    nadam.decoupled_weight_decay = nadam.maximize = False
    cdef gd.RAdamOptions radam
    radam.lr = radam.beta1 = radam.beta2 = radam.eps = radam.weight_decay = 0.0
    radam.decoupled_weight_decay = radam.maximize = False
    cdef gd.LionOptions lion
    lion.lr = lion.beta1 = lion.beta2 = lion.weight_decay = 0.0
    lion.maximize = False

    gd.sgd_step(sgd, &sf, 1)
    gd.sgd_step(sgd, &sd, 1)
    gd.adam_step(adam, &sf, 1)
    gd.adam_step(adam, &sd, 1)
    gd.rmsprop_step(rms, &sf, 1)
    gd.rmsprop_step(rms, &sd, 1)
    gd.adagrad_step(adagrad, &sf, 1)
    gd.adagrad_step(adagrad, &sd, 1)
    gd.adadelta_step(adadelta, &sf, 1)
    gd.adadelta_step(adadelta, &sd, 1)
    gd.adamax_step(adamax, &sf, 1)
    gd.adamax_step(adamax, &sd, 1)
    gd.nadam_step(nadam, &sf, 1)
    gd.nadam_step(nadam, &sd, 1)
    gd.radam_step(radam, &sf, 1)
    gd.radam_step(radam, &sd, 1)
    gd.lion_step(lion, &sf, 1)
    gd.lion_step(lion, &sd, 1)
    gd.validate(sgd)
    gd.validate(adam)
    gd.validate(rms)
    gd.validate(adagrad)
    gd.validate(adadelta)
    gd.validate(adamax)
    gd.validate(nadam)
    gd.validate(radam)
    gd.validate(lion)
    return 0


cdef double clip_api(float* pf, double* pd) except? -1 nogil:
    cdef int64_t block = gd.kNormBlock
    cdef gd.Span[const float] cf
    cdef gd.Span[const double] cd
    cdef gd.Span[float] mf
    cdef gd.Span[double] md
    cf.data = pf
    cf.size = block
    cd.data = pd
    mf.data = pf
    md.data = pd
    cdef double total = gd.total_norm(&cf, 1, 2.0) + gd.total_norm(&cd, 1, 1.0)
    gd.scale(&mf, 1, 0.5)
    gd.scale(&md, 1, 0.5)
    gd.clamp(&mf, 1, 1.0)
    gd.clamp(&md, 1, 1.0)
    gd.axpy(pf, pf, 1, 1.0)
    gd.axpy(pd, pd, 1, 1.0)
    return total


cdef int losses_api(float* pf, double* pd, int64_t* k) except -1 nogil:
    cdef gd.Loss loss
    loss.kind = gd.LossKind.squared_error
    loss.kind = gd.LossKind.huber
    loss.kind = gd.LossKind.epsilon_insensitive
    loss.kind = gd.LossKind.squared_epsilon_insensitive
    loss.kind = gd.LossKind.log_loss
    loss.kind = gd.LossKind.hinge
    loss.kind = gd.LossKind.squared_hinge
    loss.kind = gd.LossKind.modified_huber
    loss.param = 0.1
    gd.loss_value(loss, pf, pf, pf, 1)
    gd.loss_value(loss, pd, pd, pd, 1)
    gd.loss_derivative(loss, pf, pf, pf, 1)
    gd.loss_derivative(loss, pd, pd, pd, 1)
    gd.multinomial_loss(k, pd, 1, 2, pd, pd)
    gd.multinomial_loss(k, pf, 1, 2, pf, NULL)
    return 0


cdef double linear_api(float* pf, double* pd, int64_t* k, int32_t* k32) except? -1 nogil:
    cdef gd.DenseData[float] df
    cdef gd.DenseData[double] dd
    df.X = df.y = df.sample_weight = pf
    df.n = df.d = 1
    dd.X = pd
    cdef gd.CsrData[float, int64_t] cf
    cdef gd.CsrData[double, int64_t] cd
    cdef gd.CsrData[float, int32_t] cf32
    cdef gd.CsrData[double, int32_t] cd32
    cf.data = cf.y = cf.sample_weight = pf
    cf.indices = cf.indptr = k
    cf.n = cf.d = 1
    cf.structure_checked = True
    cd.data = pd
    cf32.indices = cf32.indptr = k32
    cd32.data = pd

    cdef gd.SGDOptions sgd
    cdef gd.AdamOptions adam
    cdef gd.RMSpropOptions rms
    cdef gd.AdagradOptions adagrad
    cdef gd.AdadeltaOptions adadelta
    cdef gd.AdamaxOptions adamax
    cdef gd.NAdamOptions nadam
    cdef gd.RAdamOptions radam
    cdef gd.LionOptions lion
    cdef gd.OptimizerOptions opt
    opt = gd.OptimizerOptions(sgd)
    opt = gd.OptimizerOptions(adam)
    opt = gd.OptimizerOptions(rms)
    opt = gd.OptimizerOptions(adagrad)
    opt = gd.OptimizerOptions(adadelta)
    opt = gd.OptimizerOptions(adamax)
    opt = gd.OptimizerOptions(nadam)
    opt = gd.OptimizerOptions(radam)
    opt = gd.OptimizerOptions(lion)
    cdef size_t which = opt.index()

    cdef gd.MinibatchOptions mo
    mo.loss.kind = gd.LossKind.hinge
    mo.penalty = gd.Penalty.none
    mo.penalty = gd.Penalty.l2
    mo.penalty = gd.Penalty.l1
    mo.penalty = gd.Penalty.elasticnet
    mo.alpha = mo.l1_ratio = 0.0
    mo.fit_intercept = True
    mo.batch_size = 1

    cdef gd.LinearModel[float] mf
    cdef gd.LinearModel[double] md
    mf.coef.param = pf
    mf.intercept.param = pf
    mf.l1_q = pf
    mf.l1_u = pd
    md.coef.param = pd

    cdef double r = 0.0
    r += gd.minibatch_epoch(df, k, 1, mo, opt, pd, mf)
    r += gd.minibatch_epoch(dd, k, 1, mo, opt, pd, md)
    r += gd.minibatch_epoch(cf, k, 1, mo, opt, pd, mf)
    r += gd.minibatch_epoch(cd, k, 1, mo, opt, pd, md)
    r += gd.minibatch_epoch(cf32, k, 1, mo, opt, pd, mf)
    r += gd.minibatch_epoch(cd32, k, 1, mo, opt, pd, md)
    cdef gd.PassSummary ps
    ps.loss = ps.sq_norm = 0.0
    ps.finite = True
    gd.minibatch_passes(df, k, 1, 1, mo, opt, pd, mf, &ps)
    gd.minibatch_passes(dd, k, 1, 1, mo, opt, pd, md, &ps)
    cdef bint lazy = gd.sparse_step_is_lazy(opt, gd.Penalty.l2)
    r += gd.multinomial_epoch(df, 2, k, 1, mo, opt, pd, mf)
    r += gd.multinomial_epoch(dd, 2, k, 1, mo, opt, pd, md)
    r += gd.multinomial_epoch(cf, 2, k, 1, mo, opt, pd, mf)
    r += gd.multinomial_epoch(cd, 2, k, 1, mo, opt, pd, md)
    r += gd.multinomial_epoch(cf32, 2, k, 1, mo, opt, pd, mf)
    r += gd.multinomial_epoch(cd32, 2, k, 1, mo, opt, pd, md)

    cdef gd.PlainSGDOptions po
    po.loss.kind = gd.LossKind.log_loss
    po.penalty = gd.Penalty.l2
    po.alpha = po.l1_ratio = 0.0
    po.learning_rate = gd.LearningRate.constant
    po.learning_rate = gd.LearningRate.optimal
    po.learning_rate = gd.LearningRate.invscaling
    po.eta0 = po.power_t = po.optimal_init = po.intercept_decay = 0.0
    po.fit_intercept = po.objective = False
    po.average = po.block = 0
    po.targets_in_order = False
    cdef gd.PlainSGDState[float] sf
    cdef gd.PlainSGDState[double] sd
    sf.w = sf.aw = sf.q = pf
    sf.intercept = sf.average_intercept = sf.wscale = sf.average_a = sf.average_b = 0.0
    sf.u = sf.t = sf.sq_norm = sf.l1_norm = sf.objective = 0.0
    sd.w = pd
    r += gd.plain_sgd_epoch(df, k, 1, po, sf)
    r += gd.plain_sgd_epoch(dd, k, 1, po, sd)
    r += gd.plain_sgd_epoch(cf, k, 1, po, sf)
    r += gd.plain_sgd_epoch(cd, k, 1, po, sd)
    r += gd.plain_sgd_epoch(cf32, k, 1, po, sf)
    r += gd.plain_sgd_epoch(cd32, k, 1, po, sd)
    gd.plain_sgd_finalize(sf, 1)
    gd.plain_sgd_finalize(sd, 1)

    r += gd.dot(pf, pf, 1) + gd.dot(pd, pd, 1)
    r += gd.axpy_dot(pf, pf, <float>1.0, pf, 1) + gd.axpy_dot(pd, pd, 1.0, pd, 1)
    gd.block_order(k, 1, k, 1, 1, 1, k)
    cdef uint64_t seed = 1
    gd.shuffle_order(k, 1, 0, 1, seed)

    gd.decision_function(df, pf, <float>0.0, pf)
    gd.decision_function(dd, pd, 0.0, pd)
    gd.decision_function(df, k, 1, pf, <float>0.0, pf)
    gd.decision_function(dd, k, 1, pd, 0.0, pd)
    gd.decision_function(cf32, k, 1, pf, <float>0.0, pf)
    gd.decision_function(cd32, NULL, 0, pd, 0.0, pd)
    gd.decision_function(cf, k, 1, pf, <float>0.0, pf)
    gd.decision_function(cd, k, 1, pd, 0.0, pd)
    return r + which + lazy


def compile_only():
    """Never called: the module exists to be compiled."""
    cdef float f = 0
    cdef double d = 0
    cdef int64_t k = 0
    cdef int32_t k32 = 0
    runtime_api()
    optim_api(&f, &d)
    clip_api(&f, &d)
    losses_api(&f, &d, &k)
    return linear_api(&f, &d, &k, &k32)
