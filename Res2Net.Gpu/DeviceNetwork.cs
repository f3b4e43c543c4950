using ILGPU;
using ILGPU.Runtime;
using Res2Net.Runtime.Networks;

namespace Res2Net.Gpu;

/// <summary>
/// A <see cref="CompiledNetwork"/> running on a device: made by <see cref="DeviceNetworks.OnDevice(CompiledNetwork, Device, int, DeviceProgram?)"/>,
/// it attaches itself to the network, so that the network's own <c>Forward</c> (and the classifier, the evaluator and
/// the CLI above it) runs on the device until this is disposed. The packed weights (BatchNorm folded by the runtime's
/// binder) are uploaded once per load; the activations of up to <see cref="MaxBatch"/> images live in one device arena,
/// each image's slice laid out as the generator's liveness pass placed it; the input goes up and the logits (and any
/// requested stage outputs) come back once per forward.
/// </summary>
public sealed unsafe class DeviceNetwork : IForwardBackend, IDisposable
{
    private readonly CompiledNetwork _network;
    private readonly DeviceProgram _program;
    private readonly DeviceKernelCache _kernels;
    private readonly AcceleratorStream _stream;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _weights, _arena, _input, _logits;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _taps = new MemoryBuffer1D<float, Stride1D.Dense>?[5];
    private readonly DeviceRun _run = new();
    private readonly int _imageFloats;
    private bool _weightsLoaded;
    private bool _disposed;

    internal DeviceNetwork(CompiledNetwork network, DeviceProgram program, DeviceKernelCache kernels, int maxBatch)
    {
        var info = network.Info;
        if (program.ModelName != info.Name || program.PackedFloats != info.PackedFloats || program.ArenaFloats != info.ArenaFloats ||
            program.NumClasses != info.NumClasses || program.InputElements != info.InputElements)
        {
            throw new ArgumentException(
                $"the device program {program.GetType().Name} was generated for '{program.ModelName}', not for '{info.Name}' (or from another version of its spec): " +
                "a network runs only its own device forward", nameof(program));
        }
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "the largest batch must be at least 1");
        ThrowIfDisposed(kernels.Accelerator, info.Name);

        // Each image's slice starts on a 128-byte boundary, so the kernels' reads of a row start aligned.
        _imageFloats = (info.ArenaFloats + 31) / 32 * 32;
        long arena = (long)_imageFloats * maxBatch;
        long input = (long)info.InputElements * maxBatch;
        if (arena > int.MaxValue || input > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch,
                $"{info.Name}: a batch of {maxBatch} needs {arena:N0} arena floats, more than a device kernel addresses (2^31); use a smaller batch");
        }
        _network = network;
        _program = program;
        _kernels = kernels;
        MaxBatch = maxBatch;
        var accelerator = kernels.Accelerator;
        _stream = accelerator.CreateStream();
        _weights = accelerator.Allocate1D<float>(Math.Max(1, info.PackedFloats));
        _arena = accelerator.Allocate1D<float>(arena);
        _input = accelerator.Allocate1D<float>(input);
        _logits = accelerator.Allocate1D<float>((long)info.NumClasses * maxBatch);

        // Compile every kernel now (once per process: later networks on this device reuse them) and say what it cost.
        var before = kernels.CompileTime;
        int count = kernels.Count;
        Bind(batch: 1, features: null);
        _run.CompileOnly = true;
        program.Launch(_run);
        _run.CompileOnly = false;
        FirstCallCost = kernels.CompileTime - before;
        KernelsCompiled = kernels.Count - count;
        network.AttachBackend(this);
    }

    /// <summary>The network whose forward this runs.</summary>
    public CompiledNetwork Network => _network;

    public Device Device => _kernels.Device;

    /// <summary>The largest batch one forward takes (the arena is sized for it).</summary>
    public int MaxBatch { get; }

    /// <summary>What compiling this network's kernels cost when it was put on the device (zero for kernels another network had compiled).</summary>
    public TimeSpan FirstCallCost { get; }

    /// <summary>Kernels this network compiled (the rest were already compiled in this process).</summary>
    public int KernelsCompiled { get; }

    /// <inheritdoc/>
    public string Description => _kernels.Description;

    /// <summary>Runs a batch on the device (through the network's checked <c>Forward</c>).</summary>
    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> logits, FeatureCapture? features = null)
    {
        ThrowIfDisposed();
        _network.Forward(input, batch, logits, features);
    }

    /// <summary>
    /// One forward of <paramref name="batch"/> images timed kernel by kernel (each launch waited for; see
    /// <see cref="DeviceProfile"/>). The logits are computed as by <see cref="Forward"/> and dropped.
    /// </summary>
    public DeviceProfile Profile(ReadOnlySpan<float> input, int batch)
    {
        ThrowIfDisposed();
        var profile = new DeviceProfile();
        _run.Profile = profile;
        try
        {
            var logits = new float[(long)batch * _network.Info.NumClasses];
            _network.Forward(input, batch, logits);
        }
        finally
        {
            _run.Profile = null;
        }
        return profile;
    }

    void IForwardBackend.WeightsLoaded(ReadOnlySpan<float> packed)
    {
        ThrowIfDisposed();
        _weights.View.SubView(0, packed.Length).CopyFromCPU(_stream, packed);
        _stream.Synchronize();
        _weightsLoaded = true;
    }

    void IForwardBackend.Forward(float* input, int batch, float* logits, FeatureCapture? features)
    {
        ThrowIfDisposed();
        var info = _network.Info;
        if (batch > MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch,
                $"{info.Name} on {Description}: batch {batch} is larger than the {MaxBatch} images its device arena was planned for " +
                "(OnDevice(..., maxBatch: N) sets it)");
        }
        if (!_weightsLoaded) throw new InvalidOperationException($"{info.Name}: no weights were uploaded to {Description}");

        int inputFloats = batch * info.InputElements;
        _input.View.SubView(0, inputFloats).CopyFromCPU(_stream, new ReadOnlySpan<float>(input, inputFloats));
        Bind(batch, features);
        if (_run.Profile != null)
        {
            _stream.Synchronize(); // the upload is not the first kernel's time
            _run.Profile.Start();
        }
        _program.Launch(_run);
        int logitFloats = batch * info.NumClasses;
        _logits.View.SubView(0, logitFloats).CopyToCPU(_stream, new Span<float>(logits, logitFloats));
        _stream.Synchronize();

        if (features == null) return;
        foreach (int index in features.Indices)
        {
            int elements = info.Features[index].ElementCount;
            var host = new float[elements * batch];
            _taps[index]!.View.SubView(0, host.Length).CopyToCPU(_stream, host);
            _stream.Synchronize();
            fixed (float* h = host)
            {
                for (int n = 0; n < batch; n++) features.Capture(index, n, h + (long)n * elements);
            }
        }
    }

    private void Bind(int batch, FeatureCapture? features)
    {
        _run.Kernels = _kernels;
        _run.Stream = _stream;
        _run.Input = _input.View;
        _run.Arena = _arena.View;
        _run.Weights = _weights.View;
        _run.Logits = _logits.View;
        _run.Batch = batch;
        _run.ImageFloats = _imageFloats;
        _run.InputImage = _network.Info.InputElements;
        _run.TapTarget = features == null ? null : index => Tap(index, features);
    }

    /// <summary>The device buffer stage output <paramref name="index"/> is copied into, if requested (made on first use, for the largest batch).</summary>
    private ArrayView<float> Tap(int index, FeatureCapture features)
    {
        if (!features.Indices.Contains(index)) return ArrayView<float>.Empty;
        return (_taps[index] ??= _kernels.Accelerator.Allocate1D<float>((long)_network.Info.Features[index].ElementCount * MaxBatch)).View;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(DeviceNetwork),
                $"{_network.Info.Name} on {Description} was disposed; its network runs on the CPU again, or call OnDevice again");
        }
        ThrowIfDisposed(_kernels.Accelerator, _network.Info.Name);
    }

    private static void ThrowIfDisposed(Accelerator accelerator, string name)
    {
        if (accelerator.IsDisposed)
        {
            throw new ObjectDisposedException(nameof(Accelerator),
                $"{name}: the accelerator {accelerator.Name} was disposed; a device network cannot outlive the accelerator it was made on");
        }
    }

    /// <summary>Detaches from the network (its forwards run on the CPU again) and frees the device memory.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _network.DetachBackend(this);
        _disposed = true;
        if (_kernels.Accelerator.IsDisposed) return; // its buffers went with it
        foreach (var buffer in _taps) buffer?.Dispose();
        _logits.Dispose();
        _input.Dispose();
        _arena.Dispose();
        _weights.Dispose();
        _stream.Dispose();
    }
}
