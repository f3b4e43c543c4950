using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>What loading a checkpoint found: where, in which format, wrapper and key layout, and how many tensors.</summary>
public sealed record CheckpointLoadResult(string SourcePath, CheckpointFormat Format, string Wrapper, KeyLayoutInfo Layout, int TensorCount)
{
    /// <summary>One line for messages: <c>PyTorch zip (torch >= 1.6), wrapper 'state_dict', layout mmpretrain, 330 tensors</c>.</summary>
    public string Summary => $"{Format.Describe()}, wrapper '{Wrapper}', layout {Layout.Description}, {TensorCount} tensors";
}

/// <summary>
/// Loads a checkpoint file into a network tensor by tensor: the file is indexed, checked strictly against the
/// network (all missing, unexpected and mis-shaped keys reported at once), then each tensor is read from the file
/// straight into the packed weights and dropped, so loading never holds a second copy of the weights.
/// </summary>
public static class CheckpointLoader
{
    /// <summary>Loads <paramref name="path"/> (any format <see cref="CheckpointReader"/> reads, any supported key layout).</summary>
    /// <exception cref="CheckpointException">The file is unreadable or not a checkpoint; the network keeps the weights it had (or stays unloaded).</exception>
    /// <exception cref="StateDictMismatchException">The checkpoint does not fit the network (nothing is bound then).</exception>
    public static CheckpointLoadResult LoadCheckpoint(this CompiledNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var file = CheckpointFile.Open(path);
        return Load(network, file);
    }

    /// <summary>Loads the checkpoint in <paramref name="stream"/>, named <paramref name="displayName"/> in messages.</summary>
    public static CheckpointLoadResult LoadCheckpoint(this CompiledNetwork network, Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var file = CheckpointFile.Open(stream, displayName, leaveOpen: true);
        return Load(network, file);
    }

    /// <summary>Loads an opened checkpoint; the file stays open for the caller.</summary>
    public static CheckpointLoadResult Load(CompiledNetwork network, CheckpointFile file)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(file);
        network.Load(file.StateDict);
        return new CheckpointLoadResult(file.SourcePath, file.Format, file.Wrapper, file.Layout, file.StateDict.Count);
    }
}
