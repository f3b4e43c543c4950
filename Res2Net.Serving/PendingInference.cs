using System.Buffers;
using System.Diagnostics;

namespace Res2Net.Serving;

/// <summary>
/// One request's images waiting for a batched forward: their preprocessed input (a pooled array, returned once copied
/// into the batch), when they arrived, their deadline, and the logits to come.
/// </summary>
internal sealed class PendingInference
{
    private readonly TaskCompletionSource<float[]> _logits = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private float[]? _input;
    private volatile bool _abandoned;

    /// <param name="input">Rented from <see cref="ArrayPool{T}.Shared"/>; its first <paramref name="count"/> images are the input. Owned from now on.</param>
    /// <param name="count">Images in the request.</param>
    /// <param name="arrived">When the request arrived, <see cref="Stopwatch"/> ticks.</param>
    /// <param name="deadline">When its answer is due, <see cref="Stopwatch"/> ticks.</param>
    public PendingInference(float[] input, int count, long arrived, long deadline)
    {
        _input = input;
        Count = count;
        Arrived = arrived;
        Deadline = deadline;
    }

    /// <summary>Images in the request.</summary>
    public int Count { get; }

    /// <summary>When the request arrived (<see cref="Stopwatch"/> ticks): the batching delay and the queue wait count from here.</summary>
    public long Arrived { get; }

    /// <summary>When its answer is due (<see cref="Stopwatch"/> ticks); a request still queued then is dropped.</summary>
    public long Deadline { get; }

    /// <summary>The logits, <c>Count × classes</c>, once its batch has run.</summary>
    public Task<float[]> Logits => _logits.Task;

    /// <summary>Nobody waits for the answer any more (the deadline passed, the client went away): not worth a forward.</summary>
    public bool Abandoned => _abandoned;

    public void Abandon() => _abandoned = true;

    public bool IsExpired(long now) => _abandoned || now > Deadline;

    public ReadOnlySpan<float> Input(int elements) => (_input ?? throw new InvalidOperationException("the input was released")).AsSpan(0, Count * elements);

    /// <summary>Gives the input array back to the pool (once).</summary>
    public void ReleaseInput()
    {
        if (Interlocked.Exchange(ref _input, null) is { } array) ArrayPool<float>.Shared.Return(array);
    }

    public void Complete(float[] logits) => _logits.TrySetResult(logits);

    public void Fail(Exception error)
    {
        ReleaseInput();
        _logits.TrySetException(error);
    }
}
