using System.Diagnostics;
using Res2Net.Runtime.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>Reading bad input must fail with one exception type, naming the file and the cause, quickly and without big allocations.</summary>
internal static class CheckpointAssert
{
    public const string FileName = "hostile.pth";

    /// <summary>Reads <paramref name="fileBytes"/> and returns the <see cref="CheckpointException"/> it must raise.</summary>
    public static CheckpointException Fails(byte[] fileBytes, params string[] causeFragments)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Read(new MemoryStream(fileBytes, writable: false), FileName));
        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.Equal(FileName, error.FilePath);
        Assert.StartsWith(FileName + ": ", error.Message);
        foreach (string fragment in causeFragments)
            Assert.Contains(fragment, error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed} to reject: {error.Message}");
        // Generous: the input itself, a few copies and the stack/memo tables; never what a hostile header claims.
        Assert.True(allocated < 64L * fileBytes.Length + (256L << 20), $"allocated {allocated} bytes to reject: {error.Message}");
        return error;
    }

    /// <summary>The state dict holds exactly the tensors PyTorch saved in the samples: keys in order, dtypes, shapes, values.</summary>
    public static void HoldsTheSamples(StateDict stateDict)
    {
        Assert.Equal(PyTorchSamples.Expected.Select(e => e.Key), stateDict.Keys);
        foreach (var (key, dtype, shape, values) in PyTorchSamples.Expected)
        {
            var tensor = stateDict[key];
            Assert.Equal(dtype, tensor.SourceDType);
            Assert.Equal(shape, tensor.Shape);
            Assert.Equal(values, tensor.Data);
        }
    }

    /// <summary>Wraps a pickle (and optional storages) in torch's zip layout, then expects rejection.</summary>
    public static CheckpointException PickleFails(byte[] pickle, params string[] causeFragments) =>
        Fails(CheckpointZip.Build(pickle), causeFragments);
}
