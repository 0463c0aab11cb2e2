"""Matrix-product kernels: every product lands in one BLAS call (transposes are passed as strided views)."""

from __future__ import annotations


def make_kernels(xp) -> dict:
    def dot(lhs, rhs, *, transpose_a, transpose_b):
        if lhs.ndim == 2 and rhs.ndim == 2:  # the hot path: straight to sgemm/dgemm, no copies
            return xp.dot(lhs.T if transpose_a else lhs, rhs.T if transpose_b else rhs)
        # N-D: one matrix product over the contracted axis (lhs: last, or first when transposed; rhs:
        # first, or last when transposed); a 1-D operand is one row (lhs) or one column (rhs).
        if lhs.ndim == 1:
            a, lkeep = lhs.reshape(1, -1), ()
        elif transpose_a:
            a, lkeep = lhs.reshape(lhs.shape[0], -1).T, lhs.shape[1:]
        else:
            a, lkeep = lhs.reshape(-1, lhs.shape[-1]), lhs.shape[:-1]
        if rhs.ndim == 1:
            b, rkeep = rhs.reshape(-1, 1), ()
        elif transpose_b:
            b, rkeep = rhs.reshape(-1, rhs.shape[-1]).T, rhs.shape[:-1]
        else:
            b, rkeep = rhs.reshape(rhs.shape[0], -1), rhs.shape[1:]
        return xp.dot(a, b).reshape(tuple(lkeep) + tuple(rkeep) or (1,))

    def batch_dot(lhs, rhs, *, transpose_a, transpose_b):
        a = xp.swapaxes(lhs, -1, -2) if transpose_a else lhs
        b = xp.swapaxes(rhs, -1, -2) if transpose_b else rhs
        return xp.matmul(a, b)

    def gemm2(A, B, *, transpose_a, transpose_b, alpha, axis):
        # Matrices have rows along `axis` and columns along the last axis; matmul wants rows second-last.
        axis = axis % A.ndim
        a, b = xp.moveaxis(A, axis, -2), xp.moveaxis(B, axis, -2)
        if transpose_a:
            a = xp.swapaxes(a, -1, -2)
        if transpose_b:
            b = xp.swapaxes(b, -1, -2)
        out = xp.matmul(a, b)
        if alpha != 1.0:
            out *= out.dtype.type(alpha)
        return xp.ascontiguousarray(xp.moveaxis(out, -2, axis))

    def gemm(A, B, C, *, transpose_a, transpose_b, alpha, beta, axis):
        out = gemm2(A, B, transpose_a=transpose_a, transpose_b=transpose_b, alpha=alpha, axis=axis)
        out += C * C.dtype.type(beta) if beta != 1.0 else C
        return out

    return {"dot": dot, "batch_dot": batch_dot, "linalg_gemm2": gemm2, "linalg_gemm": gemm}
