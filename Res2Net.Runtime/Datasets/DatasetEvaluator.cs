using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.Inference;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Datasets;

/// <summary>
/// mmpretrain's <c>tools/test.py</c> for a classifier: runs every image of an <see cref="ImageDataset"/> through the
/// network's test pipeline and the network, and computes top-1 and top-5 accuracy.
/// Images are decoded and preprocessed on a separate thread, up to <see cref="Prefetch"/> batches ahead of the forward
/// (a bounded queue), so decoding overlaps the network. An image that cannot be read or decoded is recorded in
/// <see cref="EvaluationResult.Skipped"/> with the reason, and the evaluation goes on.
/// </summary>
public sealed class DatasetEvaluator
{
    private readonly int _batchSize = 32;
    private readonly int _prefetch = 2;
    private readonly int _decodeThreads = 1;

    /// <param name="network">A network with loaded weights.</param>
    /// <param name="preprocess">The test pipeline; default the network's own (<see cref="NetworkInfo.Preprocess"/>).</param>
    public DatasetEvaluator(CompiledNetwork network, PreprocessConfig? preprocess = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        Preprocessing = preprocess ?? network.Info.Preprocess;
        Preprocessing.Validate();
        if (Preprocessing.CropHeight != network.Info.InputHeight || Preprocessing.CropWidth != network.Info.InputWidth)
        {
            throw new ArgumentException(
                $"the pipeline crops {Preprocessing.CropWidth}x{Preprocessing.CropHeight} but {network.Info.Name} takes {network.Info.InputWidth}x{network.Info.InputHeight}",
                nameof(preprocess));
        }
    }

    /// <summary>The top-k the accuracy is computed for besides top-1, as mmpretrain's <c>topk=(1, 5)</c>.</summary>
    public const int TopK = 5;

    public CompiledNetwork Network { get; }

    public PreprocessConfig Preprocessing { get; }

    /// <summary>Images per forward. Default 32.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "at least 1");
    }

    /// <summary>Batches decoded ahead of the forward (the capacity of the queue between the threads). Default 2.</summary>
    public int Prefetch
    {
        get => _prefetch;
        init => _prefetch = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Prefetch), value, "at least 1");
    }

    /// <summary>Images of a batch decoded at once on the decoding side. Default 1 (one decoding thread beside the forward's).</summary>
    public int DecodeThreads
    {
        get => _decodeThreads;
        init => _decodeThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(DecodeThreads), value, "at least 1");
    }

    /// <summary>Keep every image's logits in <see cref="EvaluationResult.Logits"/> (Evaluated × classes floats). Default false.</summary>
    public bool KeepLogits { get; init; }

    /// <summary>Evaluates <paramref name="dataset"/>; <paramref name="progress"/> hears after each batch, on the calling thread.</summary>
    /// <exception cref="DatasetException">A label is out of range for the network, or the class folders do not match its classes.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public EvaluationResult Evaluate(ImageDataset dataset, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var info = Network.Info;
        if (!Network.IsLoaded) throw new InvalidOperationException($"{info.Name}: no weights are loaded; call Load(checkpoint) first.");
        dataset.CheckLabels(info.NumClasses, info.Name);

        var samples = dataset.Samples;
        int total = samples.Count, elements = info.InputElements, classes = info.NumClasses;
        var clock = Stopwatch.StartNew();
        var results = new List<SampleResult>(total);
        var skipped = new List<SkippedImage>();
        var kept = KeepLogits ? new List<float>() : null;
        var logits = new float[BatchSize * classes];
        progress?.Report(new EvaluationProgress(0, total, 0, TimeSpan.Zero));

        // Buffers cycle between the threads: one filling, up to Prefetch queued, one in the forward.
        using var free = new BlockingCollection<float[]>();
        for (int i = 0; i < Prefetch + 2; i++) free.Add(new float[BatchSize * elements]);
        using var ready = new BlockingCollection<DecodedBatch>(Prefetch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? producerFailure = null;

        var producer = new Thread(() =>
        {
            try
            {
                for (int start = 0; start < total; start += BatchSize)
                {
                    var buffer = free.Take(stop.Token);
                    ready.Add(Decode(samples, start, Math.Min(BatchSize, total - start), buffer, elements), stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                producerFailure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                ready.CompleteAdding();
            }
        })
        { IsBackground = true, Name = "res2net dataset decoder" };
        producer.Start();

        try
        {
            int done = 0;
            foreach (var batch in ready.GetConsumingEnumerable(stop.Token))
            {
                int n = batch.Valid.Count;
                if (n > 0) Network.Forward(batch.Buffer.AsSpan(0, n * elements), n, logits.AsSpan(0, n * classes));
                for (int i = 0; i < n; i++)
                {
                    var row = logits.AsSpan(i * classes, classes);
                    int[] top = Prediction.TopIndices(row, TopK);
                    float[] softmax = Prediction.Softmax(row);
                    var sample = batch.Valid[i];
                    results.Add(new SampleResult(sample.RelativePath, sample.Label, top, top.Select(t => softmax[t]).ToArray()));
                    if (kept != null) foreach (float v in row) kept.Add(v);
                }
                skipped.AddRange(batch.Skipped);
                free.Add(batch.Buffer);
                done += n + batch.Skipped.Count;
                progress?.Report(new EvaluationProgress(done, total, skipped.Count, clock.Elapsed));
            }
            producerFailure?.Throw();
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            stop.Cancel();
            producer.Join();
        }
        clock.Stop();
        return new EvaluationResult(total, results, skipped, clock.Elapsed, classes, kept?.ToArray());
    }

    /// <summary>Decodes samples [start, start + count) into <paramref name="buffer"/>, the readable ones packed at its front.</summary>
    private DecodedBatch Decode(IReadOnlyList<DatasetSample> samples, int start, int count, float[] buffer, int elements)
    {
        var reasons = new string?[count];
        void One(int i)
        {
            var sample = samples[start + i];
            try
            {
                Preprocessor.Run(sample.Path, Preprocessing, buffer.AsSpan(i * elements, elements));
            }
            catch (ImageDecodeException e)
            {
                reasons[i] = e.Reason;
            }
        }

        if (DecodeThreads == 1)
        {
            for (int i = 0; i < count; i++) One(i);
        }
        else
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = DecodeThreads }, One);
        }

        var valid = new List<DatasetSample>(count);
        var skipped = new List<SkippedImage>();
        for (int i = 0; i < count; i++)
        {
            var sample = samples[start + i];
            if (reasons[i] is { } reason)
            {
                skipped.Add(new SkippedImage(sample.Path, sample.RelativePath, reason));
                continue;
            }
            if (valid.Count != i) buffer.AsSpan(i * elements, elements).CopyTo(buffer.AsSpan(valid.Count * elements, elements));
            valid.Add(sample);
        }
        return new DecodedBatch(buffer, valid, skipped);
    }

    private sealed record DecodedBatch(float[] Buffer, List<DatasetSample> Valid, List<SkippedImage> Skipped);
}
