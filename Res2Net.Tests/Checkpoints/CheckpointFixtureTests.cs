using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>Checkpoints written by torch.save for the tiny networks must read back exactly as PyTorch holds them (the .npz).</summary>
public class CheckpointFixtureTests
{
    [Theory]
    [InlineData("tiny-plain.pth", "tiny-plain.state_dict.npz", "state_dict")]
    [InlineData("tiny-plain.bare.pth", "tiny-plain.state_dict.npz", "none")]
    [InlineData("tiny-deep.pth", "tiny-deep.state_dict.npz", "state_dict")]
    public void Float32CheckpointEqualsPyTorchValuesExactly(string checkpoint, string npz, string wrapper)
    {
        var stateDict = CheckpointReader.Read(FixtureFiles.Path(checkpoint));
        var expected = Npz.Read(FixtureFiles.Path(npz));

        Assert.Equal(wrapper, stateDict.Wrapper);
        Assert.Equal(FixtureFiles.Path(checkpoint), stateDict.SourcePath);
        // Same keys in the same (module) order.
        Assert.Equal(expected.Keys, stateDict.Keys);
        foreach (var (key, (data, shape)) in expected)
        {
            var tensor = stateDict[key];
            Assert.Equal(key, tensor.Name);
            Assert.Equal(shape, tensor.Shape);
            Assert.Equal(data.Length, tensor.ElementCount);
            Assert.True(data.AsSpan().SequenceEqual(tensor.Data), $"{checkpoint}: values of '{key}' differ from PyTorch's");
            var expectedType = key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? TensorDType.Int64 : TensorDType.Float32;
            Assert.Equal(expectedType, tensor.SourceDType);
        }
    }

    [Fact]
    public void BatchCounterIsAnInt64Scalar()
    {
        var tensor = CheckpointReader.Read(FixtureFiles.Path("tiny-plain.pth"))["backbone.bn1.num_batches_tracked"];
        Assert.Equal(TensorDType.Int64, tensor.SourceDType);
        Assert.Empty(tensor.Shape);
        Assert.Equal([1234f], tensor.Data);
    }

    /// <summary>
    /// tiny-plain.fp16.pth holds <c>t.half()</c> of the float32 weights. float16 keeps 11 significant bits, so
    /// round-to-nearest moves a normal value by at most half an ulp: |fp16 - fp32| &lt;= 2^-11 |fp32|; below the normal
    /// range (2^-14) the spacing is fixed at 2^-24, so the bound there is 2^-25. Both IEEE roundings are the same, so
    /// the values must also equal C#'s own <c>(Half)</c> conversion bit for bit.
    /// </summary>
    [Fact]
    public void Float16CheckpointIsTheRoundedFloat32Values()
    {
        var stateDict = CheckpointReader.Read(FixtureFiles.Path("tiny-plain.fp16.pth"));
        var expected = Npz.Read(FixtureFiles.Path("tiny-plain.state_dict.npz"));

        Assert.Equal("none", stateDict.Wrapper);
        Assert.Equal(expected.Keys, stateDict.Keys);
        foreach (var (key, (data, shape)) in expected)
        {
            var tensor = stateDict[key];
            Assert.Equal(shape, tensor.Shape);
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            {
                Assert.Equal(TensorDType.Int64, tensor.SourceDType);
                Assert.Equal(data, tensor.Data);
                continue;
            }
            Assert.Equal(TensorDType.Float16, tensor.SourceDType);
            for (int i = 0; i < data.Length; i++)
            {
                float want = data[i], got = tensor.Data[i];
                float bound = Math.Abs(want) >= MathF.ScaleB(1, -14) ? Math.Abs(want) * MathF.ScaleB(1, -11) : MathF.ScaleB(1, -25);
                Assert.True(Math.Abs(got - want) <= bound, $"'{key}'[{i}]: {got} is not {want} rounded to float16");
                Assert.Equal((float)(Half)want, got);
            }
        }
    }

    [Fact]
    public void StreamOverloadNamesTheStreamInsteadOfAPath()
    {
        using var stream = File.OpenRead(FixtureFiles.Path("tiny-plain.bare.pth"));
        var stateDict = CheckpointReader.Read(stream, "in-memory.pth");
        Assert.Equal("in-memory.pth", stateDict.SourcePath);
        Assert.Equal(182, stateDict.Count);
    }
}
