using Res2Net.Runtime.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// Small checkpoints made by PyTorch (PyTorchSamples.cs): views sharing a storage, every dtype, a Parameter,
/// rich meta, pickle protocols 2/4/5 and the legacy format must all give PyTorch's values.
/// </summary>
public class PyTorchSampleTests
{
    public static TheoryData<string> Samples => new() { "ZipProtocol2", "ZipProtocol4", "ZipProtocol5", "LegacyProtocol2" };

    private static byte[] Sample(string name) => name switch
    {
        "ZipProtocol2" => PyTorchSamples.ZipProtocol2,
        "ZipProtocol4" => PyTorchSamples.ZipProtocol4,
        "ZipProtocol5" => PyTorchSamples.ZipProtocol5,
        "LegacyProtocol2" => PyTorchSamples.LegacyProtocol2,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void EveryTensorMatchesPyTorch(string sample)
    {
        var stateDict = CheckpointReader.Read(new MemoryStream(Sample(sample)), sample + ".pth");

        Assert.Equal("state_dict", stateDict.Wrapper);
        CheckpointAssert.HoldsTheSamples(stateDict);
    }

    [Fact]
    public void NonSeekableStreamsAreBuffered()
    {
        var stateDict = CheckpointReader.Read(new ForwardOnlyStream(PyTorchSamples.ZipProtocol2), "pipe");
        Assert.Equal(PyTorchSamples.Expected.Length, stateDict.Count);
    }

    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();

        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }
}
