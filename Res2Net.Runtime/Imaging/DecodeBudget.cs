namespace Res2Net.Runtime.Imaging;

/// <summary>
/// A counting semaphore in pixels: a decode takes its image's pixel count before allocating the pixels and gives it back
/// when they are freed, so decodes running at once hold at most the capacity together, and peak memory follows the
/// capacity rather than the number of decoding threads times the largest image. An image larger than the whole
/// capacity still runs, alone.
/// </summary>
internal sealed class DecodeBudget(Func<long> capacity)
{
    /// <summary>The process's budget: <see cref="ImageLimits.MaxPixels"/> pixels.</summary>
    public static readonly DecodeBudget Shared = new(() => ImageLimits.MaxPixels);

    private readonly object _gate = new();
    private long _inUse;

    /// <summary>Pixels held now.</summary>
    public long InUse
    {
        get
        {
            lock (_gate) return _inUse;
        }
    }

    /// <summary>Waits until <paramref name="pixels"/> fit, then holds them until the returned lease is disposed.</summary>
    public Lease Acquire(long pixels)
    {
        lock (_gate)
        {
            while (!Fits(pixels)) Monitor.Wait(_gate);
            _inUse += pixels;
        }
        return new Lease(this, pixels);
    }

    /// <summary>Holds <paramref name="pixels"/> if they fit now; false (and no lease) if they do not.</summary>
    public bool TryAcquire(long pixels, out Lease lease)
    {
        lock (_gate)
        {
            if (!Fits(pixels))
            {
                lease = null!;
                return false;
            }
            _inUse += pixels;
        }
        lease = new Lease(this, pixels);
        return true;
    }

    private bool Fits(long pixels) => _inUse == 0 || _inUse + pixels <= capacity();

    private void Release(long pixels)
    {
        lock (_gate)
        {
            _inUse -= pixels;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Pixels held from the budget; disposing gives them back (once).</summary>
    public sealed class Lease(DecodeBudget budget, long pixels) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) budget.Release(pixels);
        }
    }
}
