using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Kernels;

namespace Res2Net.Runtime.Networks;

/// <summary>
/// The base of every generated network. It owns the three buffers a forward pass needs (packed weights,
/// activation arena, gather scratch), pinned so the generated code addresses them with literal offsets; the
/// generated subclass supplies the layers.
/// </summary>
/// <remarks>
/// A network may be reloaded while it serves: a load builds the new packed weights in a buffer of their own and
/// swaps them in only once they are complete, between two forwards (which hold <c>_forwardLock</c> from start to
/// end), so every forward runs on one whole weight set and a load that fails leaves the old set serving.
/// </remarks>
public abstract unsafe class CompiledNetwork
{
    private float[] _packed;
    private readonly float[] _arena;
    private readonly int _packedFloats;
    private readonly int _arenaFloats;
    private readonly object _forwardLock = new();
    private readonly object _loadLock = new();
    private CompiledNetwork[] _replicas = Array.Empty<CompiledNetwork>();
    private BatchJob? _job;
    private bool _isLoaded;
    private LinearRegion? _classifier;
    private IForwardBackend? _backend;

    /// <summary>
    /// Packed weights with BatchNorm folded in; the generated code adds literal offsets. Changes only under
    /// <c>_forwardLock</c>, when a load swaps in new weights.
    /// </summary>
    protected float* Packed;

    /// <summary>The activation arena of one image.</summary>
    protected readonly float* Arena;

    protected CompiledNetwork(NetworkInfo info, int arenaFloats, int packedFloats)
    {
        Info = info;
        // The pinned heap keeps the arrays in place for the life of the instance, so raw pointers stay valid.
        _packedFloats = packedFloats;
        _arenaFloats = arenaFloats + Gemm.ReadSlack;
        _packed = AlignedBuffer.Allocate(packedFloats);
        _arena = AlignedBuffer.Allocate(_arenaFloats);
        Packed = AlignedBuffer.Start(_packed);
        Arena = AlignedBuffer.Start(_arena);
    }

    /// <summary>
    /// A replica for another thread: the same packed weights, its own arena and scratch, so that the images of a
    /// batch can run side by side, one per thread, without any synchronisation between layers.
    /// </summary>
    protected CompiledNetwork(CompiledNetwork primary)
    {
        Info = primary.Info;
        _packed = primary._packed;
        _packedFloats = primary._packedFloats;
        _arenaFloats = primary._arenaFloats;
        _arena = AlignedBuffer.Allocate(_arenaFloats);
        Packed = primary.Packed;
        Arena = AlignedBuffer.Start(_arena);
    }

    /// <summary>The network's spec, counts, layers and checkpoint table.</summary>
    public NetworkInfo Info { get; }

    /// <summary>True once a checkpoint has been bound; stays true (a later load that fails keeps the weights it would have replaced).</summary>
    public bool IsLoaded => Volatile.Read(ref _isLoaded);

    /// <summary>Where the weights that serve came from, for messages.</summary>
    public string? CheckpointSource { get; private set; }

    /// <summary>
    /// Reads a checkpoint file (any format and key layout <see cref="CheckpointReader"/> knows) and binds it
    /// (see <see cref="Load(StateDict)"/>), streaming tensors into the packed weights one at a time.
    /// </summary>
    public CheckpointLoadResult Load(string checkpointPath) => this.LoadCheckpoint(checkpointPath);

    /// <summary>
    /// Binds a state dict strictly: every tensor the network needs must be present with its exact shape,
    /// and nothing else may be (BatchNorm's <c>num_batches_tracked</c> aside). All problems are reported together.
    /// </summary>
    /// <exception cref="StateDictMismatchException">Keys are missing, unexpected or mis-shaped.</exception>
    public void Load(StateDict stateDict) => Load(KeyLayout.ToMmpretrain(stateDict, Info), stateDict.SourcePath);

    /// <summary>
    /// Binds tensors given by mmpretrain key (used by tests and tools that make weights themselves). Forwards go on
    /// meanwhile with the weights loaded before; if reading a tensor fails, those weights stay.
    /// </summary>
    public void Load(IReadOnlyDictionary<string, CheckpointTensor> tensors, string source)
    {
        StateDictMismatchException.ThrowIfMismatched(tensors, Info, source);
        lock (_loadLock)
        {
            // The first load fills the buffer the constructor made (nothing reads it yet); later ones need a second
            // buffer while the first still serves, and the old one is collected once swapped out.
            float[] next = IsLoaded ? AlignedBuffer.Allocate(_packedFloats) : _packed;
            float* start = AlignedBuffer.Start(next);
            var binder = new WeightBinder(tensors, new Span<float>(start, _packedFloats));
            Bind(binder);
            lock (_forwardLock)
            {
                foreach (var network in _replicas.Prepend(this))
                {
                    network._packed = next;
                    network.Packed = start;
                }
                CheckpointSource = source;
                _classifier = binder.Classifier;
                Volatile.Write(ref _isLoaded, true);
                _backend?.WeightsLoaded(new ReadOnlySpan<float>(start, _packedFloats));
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="batch"/> images, each 3 × <see cref="NetworkInfo.InputHeight"/> × <see cref="NetworkInfo.InputWidth"/>
    /// floats, already normalized, and writes <c>batch × NumClasses</c> logits. Optionally copies stage outputs out.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int batch, Span<float> logits, FeatureCapture? features = null)
    {
        // Once true, never false again: a reload swaps complete weight sets (see the class remarks).
        if (!IsLoaded) throw new InvalidOperationException($"{Info.Name}: no weights are loaded; call Load(checkpoint) first.");
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be at least 1");
        long need = (long)batch * Info.InputElements;
        if (input.Length != need)
        {
            throw new ArgumentException(
                $"{Info.Name}: input has {input.Length} floats; expected batch {batch} × 3 × {Info.InputHeight} × {Info.InputWidth} = {need}", nameof(input));
        }
        if (logits.Length != batch * Info.NumClasses)
        {
            throw new ArgumentException($"{Info.Name}: logits span has {logits.Length} floats; expected batch {batch} × {Info.NumClasses}", nameof(logits));
        }
        features?.Prepare(Info, batch);

        lock (_forwardLock)
        {
            fixed (float* x = input)
            fixed (float* y = logits)
            {
                if (_backend != null)
                {
                    _backend.Forward(x, batch, y, features);
                    return;
                }
                int threads = Math.Min(batch, Workers.MaxThreads);
                if (threads <= 1)
                {
                    for (int n = 0; n < batch; n++) ForwardImage(x + (long)n * Info.InputElements, y + (long)n * Info.NumClasses, features, n);
                    return;
                }
                // Images across threads: each replica runs whole images with its layers on one thread.
                EnsureReplicas(threads - 1);
                var job = _job ??= new BatchJob(this);
                job.Input = x;
                job.Logits = y;
                job.Batch = batch;
                job.Next = 0;
                job.Features = features;
                try
                {
                    Workers.Run(threads, &RunImages, (void*)job.Handle);
                }
                finally
                {
                    job.Features = null;
                }
            }
        }
    }

    /// <summary>
    /// What the threads of a batched forward need, reached through a weak GC handle made once per network:
    /// a function pointer can carry no object reference, and a forward must not allocate.
    /// </summary>
    private sealed class BatchJob
    {
        public BatchJob(CompiledNetwork network)
        {
            Network = network;
            Handle = System.Runtime.InteropServices.GCHandle.ToIntPtr(
                System.Runtime.InteropServices.GCHandle.Alloc(this, System.Runtime.InteropServices.GCHandleType.Weak));
        }

        ~BatchJob() => System.Runtime.InteropServices.GCHandle.FromIntPtr(Handle).Free();

        public CompiledNetwork Network { get; }
        public IntPtr Handle { get; }
        public float* Input;
        public float* Logits;
        public int Batch;

        /// <summary>The next image no thread has taken yet.</summary>
        public int Next;
        public FeatureCapture? Features;
    }

    /// <summary>
    /// Each thread takes the next image no thread has taken, until none is left; nested layer work runs inline. Taken, not
    /// dealt: on a shared or virtual machine one core is often slower for a while (the host runs something else on it),
    /// and images dealt in turn (part, part + parts, …) left the other core idle at the end of every batch. An image's
    /// logits do not depend on the thread that computes it.
    /// </summary>
    private static void RunImages(void* state, int part, int parts)
    {
        var job = (BatchJob)System.Runtime.InteropServices.GCHandle.FromIntPtr((IntPtr)state).Target!; // alive: its network is mid-forward
        var network = part == 0 ? job.Network : job.Network._replicas[part - 1];
        var info = job.Network.Info;
        for (int n; (n = Interlocked.Increment(ref job.Next) - 1) < job.Batch;)
        {
            network.ForwardImage(job.Input + (long)n * info.InputElements, job.Logits + (long)n * info.NumClasses, job.Features, n);
        }
    }

    private void EnsureReplicas(int count)
    {
        if (_replicas.Length >= count) return;
        var replicas = new CompiledNetwork[count];
        Array.Copy(_replicas, replicas, _replicas.Length);
        for (int i = _replicas.Length; i < count; i++) replicas[i] = CreateReplica();
        _replicas = replicas;
    }

    /// <summary>The engine forwards run on, when not this CPU code (see <see cref="AttachBackend"/>).</summary>
    public IForwardBackend? Backend => Volatile.Read(ref _backend);

    /// <summary>
    /// Runs every later forward on <paramref name="backend"/> (a GPU); the weights bound so far are handed over at once,
    /// later loads as they happen. One backend at a time: a network already on one device refuses another.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another backend is attached.</exception>
    public void AttachBackend(IForwardBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        lock (_loadLock)
        lock (_forwardLock)
        {
            if (_backend != null && !ReferenceEquals(_backend, backend))
            {
                throw new InvalidOperationException(
                    $"{Info.Name} already runs on {_backend.Description}; dispose that device network before moving it to {backend.Description}");
            }
            if (IsLoaded) backend.WeightsLoaded(new ReadOnlySpan<float>(Packed, _packedFloats));
            _backend = backend;
        }
    }

    /// <summary>Forwards run on the CPU again (what disposing a device network does); nothing if <paramref name="backend"/> is not attached.</summary>
    public void DetachBackend(IForwardBackend backend)
    {
        lock (_forwardLock)
        {
            if (ReferenceEquals(_backend, backend)) _backend = null;
        }
    }

    /// <summary>
    /// Row <paramref name="label"/> of the classifier's weight (<c>head.fc.weight[label, :]</c>, one value per layer4
    /// channel) and its bias, as loaded: the Linear layer is packed unchanged, so this reads it back instead of keeping
    /// a second copy. Class activation maps weigh layer4's channels with it.
    /// </summary>
    /// <exception cref="InvalidOperationException">No weights are loaded.</exception>
    public (float[] Weights, float Bias) ClassifierWeights(int label)
    {
        if (!IsLoaded) throw new InvalidOperationException($"{Info.Name}: no weights are loaded; call Load(checkpoint) first.");
        if ((uint)label >= (uint)Info.NumClasses)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"{Info.Name} has classes 0 to {Info.NumClasses - 1}");
        lock (_forwardLock)
        {
            // Under the lock a reload cannot swap the buffer out while the row is copied.
            var fc = _classifier ?? throw new InvalidOperationException($"{Info.Name} has no Linear classifier");
            var row = new ReadOnlySpan<float>(Packed + fc.Weights + (long)label * fc.In, fc.In).ToArray();
            return (row, Packed[fc.Bias + label]);
        }
    }

    /// <summary>Runs a batch and returns its logits, <c>batch × NumClasses</c>.</summary>
    public float[] Forward(ReadOnlySpan<float> input, int batch)
    {
        var logits = new float[batch * Info.NumClasses];
        Forward(input, batch, logits);
        return logits;
    }

    /// <summary>Packs the weights; generated.</summary>
    protected abstract void Bind(WeightBinder binder);

    /// <summary>The straight-line forward of image <paramref name="image"/> of the batch; generated.</summary>
    protected abstract void ForwardImage(float* input, float* logits, FeatureCapture? features, int image);

    /// <summary>
    /// Runs layer <paramref name="index"/> of <see cref="NetworkInfo.Layers"/> alone, on this instance's arena and weights
    /// as the last forward left them (the first layer reads <paramref name="input"/>, the head writes
    /// <paramref name="logits"/>): the profiler's replay, through exactly the call the forward makes.
    /// </summary>
    public void ReplayLayer(int index, float* input, float* logits)
    {
        if ((uint)index >= (uint)Info.Layers.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Info.Name} has {Info.Layers.Count} layers");
        }
        if (!IsLoaded) throw new InvalidOperationException($"{Info.Name}: no checkpoint is loaded");
        lock (_forwardLock) RunLayer(index, input, logits);
    }

    /// <summary>The generated dispatch behind <see cref="ReplayLayer"/>.</summary>
    protected abstract void RunLayer(int index, float* input, float* logits);

    /// <summary>Another instance over the same packed weights (see the replica constructor); generated.</summary>
    protected abstract CompiledNetwork CreateReplica();
}
