namespace Res2Net.Runtime.Checkpoints;

/// <summary>The file formats <see cref="CheckpointReader"/> recognises, by their content (never by the file name).</summary>
public enum CheckpointFormat
{
    /// <summary>torch.save since torch 1.6: a zip archive holding <c>data.pkl</c> and one entry per storage.</summary>
    TorchZip,

    /// <summary>torch.save before 1.6 (or with <c>_use_new_zipfile_serialization=False</c>): pickles followed by raw storages.</summary>
    TorchLegacy,

    /// <summary>safetensors: an 8-byte header length, a JSON header, then the raw tensor bytes.</summary>
    Safetensors,
}

/// <summary>Names of <see cref="CheckpointFormat"/> for messages.</summary>
public static class CheckpointFormatNames
{
    /// <summary>E.g. <c>PyTorch zip (torch >= 1.6)</c>.</summary>
    public static string Describe(this CheckpointFormat format) => format switch
    {
        CheckpointFormat.TorchZip => "PyTorch zip (torch >= 1.6)",
        CheckpointFormat.TorchLegacy => "PyTorch legacy (torch < 1.6)",
        CheckpointFormat.Safetensors => "safetensors",
        _ => format.ToString(),
    };
}
